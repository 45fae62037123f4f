"""A values ConfigMap labelled ``reconcile.fluxcd.io/watch: Enabled`` upgrades at once."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import DEPLOYMENT, create_release, given_repository, wait_for
from tests.integration.helpers import eventually
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_a_change_in_a_watched_values_configmap_upgrades_the_release(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await kube.create(resources.CONFIG_MAP, {
        "metadata": {
            "name": "podinfo-values",
            "namespace": namespace,
            "labels": {"reconcile.fluxcd.io/watch": "Enabled"},
        },
        "data": {"custom.yaml": "replicas: 1\n"},
    })  # fmt: skip
    refs = [{"kind": "ConfigMap", "name": "podinfo-values", "valuesKey": "custom.yaml"}]
    # An interval far beyond the test: only the watch can bring the upgrade.
    await create_release(kube, namespace, "podinfo", {"interval": "1h", "valuesFrom": refs})
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    config = await kube.get(resources.CONFIG_MAP, "podinfo-values", namespace=namespace)
    await kube.replace(resources.CONFIG_MAP, {**config, "data": {"custom.yaml": "replicas: 3\n"}})
    await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded", timeout=30)

    async def scaled() -> bool:
        deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
        return deployment["spec"]["replicas"] == 3

    await eventually(scaled, what="the Deployment to follow the new values")

"""Values from ConfigMaps and Secrets, merged in Flux's order; a Secret's value stays secret."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import DEPLOYMENT, create_release, given_repository, wait_for
from tests.integration.helpers import events_for
from tests.integration.source.conftest import create_secret
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

SECRET_GREETING = "s3cret-greeting-value"


async def test_values_from_configmap_and_secret_merge_under_inline_values(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await kube.create(resources.CONFIG_MAP, {
        "metadata": {"name": "base", "namespace": namespace},
        "data": {"values.yaml": "replicas: 1\ngreeting: from-configmap\n"},
    })  # fmt: skip
    await create_secret(kube, namespace, "private", {"greeting": SECRET_GREETING})
    await create_release(kube, namespace, "podinfo", {
        "valuesFrom": [
            {"kind": "ConfigMap", "name": "base"},
            {"kind": "Secret", "name": "private", "valuesKey": "greeting",
             "targetPath": "greeting"},
            {"kind": "ConfigMap", "name": "not-there", "optional": True},
        ],
        "values": {"replicas": 2},
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 2  # inline values last
    assert deployment["metadata"]["annotations"]["greeting"] == SECRET_GREETING  # targetPath
    # The Secret's value reaches the chart, and nothing else Tide writes.
    assert SECRET_GREETING not in str(obj)
    events = await events_for(kube, namespace, "podinfo")
    assert all(SECRET_GREETING not in e["message"] for e in events)

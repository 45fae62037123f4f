"""``commonMetadata``: labels and annotations on every object of the release, nowhere else."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import DEPLOYMENT, create_release, given_repository, wait_for
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_common_metadata_marks_every_object_and_a_change_upgrades(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {
        "values": {"extraConfigMap": "extra"},
        "commonMetadata": {"labels": {"team": "blue"}, "annotations": {"owner": "platform"}},
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert obj["status"]["observedCommonMetadataDigest"].startswith("sha256:")

    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    config_map = await kube.get(resources.CONFIG_MAP, "extra", namespace=namespace)
    for made in (deployment, config_map):
        assert made["metadata"]["labels"]["team"] == "blue"
        assert made["metadata"]["annotations"]["owner"] == "platform"
        assert made["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    # Only metadata: selectors and pod templates stay as the chart wrote them.
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "podinfo"}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "podinfo"}

    change = {"spec": {"commonMetadata": {"labels": {"team": "green"}}}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", change, namespace=namespace)
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert obj["status"]["history"][0]["version"] == 2
    config_map = await kube.get(resources.CONFIG_MAP, "extra", namespace=namespace)
    assert config_map["metadata"]["labels"]["team"] == "green"
    assert config_map["metadata"]["annotations"]["owner"] == "platform"

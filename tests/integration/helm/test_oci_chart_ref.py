"""``chartRef`` to an OCIRepository holding a Helm chart pushed as ``helm push`` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helm.common import DEPLOYMENT, TEMPLATES, wait_for
from tests.integration.helpers import condition
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.ocirepository import OCI_REPOSITORY
from tide.testing import Registry, package_chart

pytestmark = pytest.mark.integration

HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with Registry() as server:
        archive = package_chart("podinfo", "6.5.0", tmp_path / "oci", templates=TEMPLATES,
                                values={"replicas": 1, "greeting": "hi"})  # fmt: skip
        server.push_chart("charts/podinfo", archive, "6.5.0")
        yield server


async def test_a_chart_from_an_oci_repository_is_installed(
    kube: KubeClient, namespace: str, registry: Registry, controllers: Manager
) -> None:
    await kube.create(OCI_REPOSITORY, {
        "metadata": {"name": "podinfo", "namespace": namespace},
        "spec": {
            "interval": "10m",
            "url": f"oci://{registry.host}/charts/podinfo",
            "insecure": True,
            "ref": {"tag": "6.5.0"},
            "layerSelector": {"mediaType": HELM_LAYER, "operation": "copy"},
        },
    })  # fmt: skip
    await kube.create(HELM_RELEASE, {
        "metadata": {"name": "podinfo", "namespace": namespace},
        "spec": {"interval": "10m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}},
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert condition(obj, "Ready")["message"] == (
        f"Helm install succeeded for release {namespace}/podinfo.v1 with chart podinfo@6.5.0"
    )
    assert obj["status"]["lastAttemptedRevision"].startswith("6.5.0@sha256:")
    assert "helmChart" not in obj["status"]
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None

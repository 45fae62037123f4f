"""``tide diff helmrelease``: the next install or upgrade, rendered as the controller renders it."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.integration.cli.test_operating import tide
from tests.integration.helm import conftest as helm_fixtures
from tests.integration.helm.common import (
    DEPLOYMENT,
    DEPLOYMENT_TEMPLATE,
    chart_spec,
    create_release,
    given_repository,
    wait_for,
)
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration

controllers = helm_fixtures.controllers
"""The source and helm controllers (cli/conftest.py's are the kustomize ones)."""
helm_options = helm_fixtures.helm_options
"""The helm controller's ``setup()`` options ``controllers`` takes: the defaults."""

SECRET_TEMPLATE = """\
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-creds
data:
  password: {{ .Values.password | b64enc }}
"""


@pytest.fixture(scope="module")
def charts() -> Iterator[ChartRepository]:
    """``web`` 1.0.0: a Deployment (replicas, greeting) and a Secret (password) from values."""
    with ChartRepository() as repo:
        repo.add_chart(
            "web",
            "1.0.0",
            values={"replicas": 1, "greeting": "hello", "password": "unset"},
            templates={"deployment.yaml": DEPLOYMENT_TEMPLATE, "secret.yaml": SECRET_TEMPLATE},
        )
        yield repo


async def test_diff_helmrelease_shows_an_upgrade_not_yet_reconciled(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    charts: ChartRepository,
    controllers: Manager,
) -> None:
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "web", {
        "chart": chart_spec("1.0.0", chart="web"),
        "values": {"greeting": "hello", "password": "hunter2-live"},
        "commonMetadata": {"labels": {"team": "web"}},
    })  # fmt: skip
    await wait_for(kube, namespace, "web", status="True", reason="InstallSucceeded")
    kubeconfig = control_plane.kubeconfig

    # In sync: Helm's dry run of the upgrade (post-rendered, commonMetadata) matches the cluster.
    same = await tide(kubeconfig, "diff", "helmrelease", "web", "-n", namespace)
    assert (same.code, same.stdout) == (0, ""), same.stderr

    # A values change the controller has not acted on (the release is suspended).
    await kube.patch_merge(HELM_RELEASE, "web", {"spec": {"suspend": True}}, namespace=namespace)
    change = {"spec": {"values": {"greeting": "goodbye", "password": "hunter3-new"}}}
    await kube.patch_merge(HELM_RELEASE, "web", change, namespace=namespace)
    diff = await tide(kubeconfig, "diff", "hr", "web", "-n", namespace)
    assert diff.code == 1, diff.stderr
    assert f"► Deployment/{namespace}/web drifted" in diff.stdout
    assert "-    greeting: hello\n" in diff.stdout
    assert "+    greeting: goodbye\n" in diff.stdout
    assert f"► Secret/{namespace}/web-creds drifted" in diff.stdout
    assert "-  password: '***'\n" in diff.stdout
    assert "+  password: '*** (changed)'\n" in diff.stdout
    for plaintext in ("hunter2", "hunter3", base64.b64encode(b"hunter3-new").decode()):
        assert plaintext not in diff.stdout + diff.stderr

    # Nothing was written: the cluster still runs the installed values, with one revision.
    live = await kube.get(DEPLOYMENT, "web", namespace=namespace)
    assert live["metadata"]["annotations"]["greeting"] == "hello"
    records, _ = await kube.list(resources.SECRET, namespace=namespace, labels={"owner": "helm"})
    assert [r["metadata"]["labels"]["version"] for r in records] == ["1"]

    missing = await tide(kubeconfig, "diff", "helmrelease", "nope", "-n", namespace)
    assert missing.code == 2
    assert missing.stderr.strip() == f'✗ HelmRelease "nope" not found in "{namespace}" namespace'

"""Per-action settings Helm honours: ``disableHooks``, ``crds``, Job waits, ``upgrade.force``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    TEMPLATES,
    chart_spec,
    create_release,
    given_repository,
    wait_for,
)
from tests.integration.helpers import condition
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

CRD = ResourceType(
    "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions"
)
JOB = ResourceType("batch", "v1", "Job", "jobs")

HOOKED = {
    "plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-plain\n",
    "hook.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n"
        "  annotations:\n    helm.sh/hook: post-install,post-upgrade\n"
    ),
}
"""A ConfigMap, and another made by a post-install hook."""

STUCK_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {tide.test/no-such-node: "true"}
      containers:
        - name: wait
          image: busybox
"""
"""A Job whose pod no node takes: it never completes."""


def crd_chart(group: str) -> dict[str, str]:
    """A ConfigMap template and, in ``crds/``, a CRD in ``group``."""
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n"
        "  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n"
        "  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n"
        "      storage: true\n      schema:\n        openAPIV3Schema: {type: object}\n"
    )
    return {"../crds/widgets.yaml": crd, **HOOKED}


@pytest.fixture(scope="module")
def charts() -> Iterator[ChartRepository]:
    """``podinfo`` (as the other tests'), ``hooked`` and ``jobs``."""
    with ChartRepository() as repo:
        repo.add_chart(
            "podinfo", "6.5.0", values={"replicas": 1, "greeting": "hello"}, templates=TEMPLATES
        )
        repo.add_chart("hooked", "1.0.0", templates=HOOKED)
        repo.add_chart("jobs", "1.0.0", templates={"job.yaml": STUCK_JOB})
        yield repo


def chart(name: str, version: str = "1.0.0") -> dict[str, Any]:
    return chart_spec(version, chart=name)


async def test_disable_hooks_skips_the_charts_hooks(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    quiet = {"install": {"disableHooks": True}, "upgrade": {"disableHooks": True}}
    await create_release(kube, namespace, "quiet", {"chart": chart("hooked"), **quiet})
    await create_release(kube, namespace, "loud", {"chart": chart("hooked")})
    for name in ("quiet", "loud"):
        await wait_for(kube, namespace, name, status="True", reason="InstallSucceeded")
    assert await kube.get_or_none(resources.CONFIG_MAP, "quiet-plain", namespace=namespace)
    assert await kube.get_or_none(resources.CONFIG_MAP, "quiet-hook", namespace=namespace) is None
    assert await kube.get_or_none(resources.CONFIG_MAP, "loud-hook", namespace=namespace)

    # An upgrade (new values) runs the post-upgrade hook only where hooks are not disabled.
    await kube.delete(resources.CONFIG_MAP, "loud-hook", namespace=namespace)
    for name in ("quiet", "loud"):
        change = {"spec": {"values": {"round": 2}}}
        await kube.patch_merge(HELM_RELEASE, name, change, namespace=namespace)
    for name in ("quiet", "loud"):
        await wait_for(kube, namespace, name, status="True", reason="UpgradeSucceeded")
    assert await kube.get_or_none(resources.CONFIG_MAP, "loud-hook", namespace=namespace)
    assert await kube.get_or_none(resources.CONFIG_MAP, "quiet-hook", namespace=namespace) is None


async def test_install_crds_skip_leaves_the_charts_crds_out(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    group = f"{namespace}.tide.test"
    charts.add_chart("widgets", "1.0.0", templates=crd_chart(group))
    await given_repository(kube, namespace, charts)
    try:
        await create_release(
            kube, namespace, "skip", {"chart": chart("widgets"), "install": {"crds": "Skip"}}
        )
        await wait_for(kube, namespace, "skip", status="True", reason="InstallSucceeded")
        assert await kube.get_or_none(CRD, f"widgets.{group}") is None
        await create_release(kube, namespace, "create", {"chart": chart("widgets")})
        await wait_for(kube, namespace, "create", status="True", reason="InstallSucceeded")
        assert await kube.get_or_none(CRD, f"widgets.{group}") is not None
    finally:
        if await kube.get_or_none(CRD, f"widgets.{group}") is not None:
            await kube.delete(CRD, f"widgets.{group}")


async def test_jobs_are_waited_for_unless_disable_wait_for_jobs(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "eager", {
        "chart": chart("jobs"), "install": {"disableWaitForJobs": True, "timeout": "20s"},
    })  # fmt: skip
    await create_release(
        kube, namespace, "patient", {"chart": chart("jobs"), "install": {"timeout": "5s"}}
    )
    await wait_for(kube, namespace, "eager", status="True", reason="InstallSucceeded")
    obj = await wait_for(kube, namespace, "patient", status="False", reason="InstallFailed")
    assert "patient" in condition(obj, "Ready")["message"]
    assert (await kube.get(JOB, "eager", namespace=namespace)).get("status", {}).get(
        "succeeded"
    ) is None


async def test_upgrade_force_replaces_objects_rather_than_merging(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "podinfo", {
        "chart": chart("podinfo", "6.5.0"), "upgrade": {"force": True}, "values": {"replicas": 1},
    })  # fmt: skip
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    added = {"metadata": {"labels": {"added-by-hand": "yes"}}}
    await kube.patch_merge(DEPLOYMENT, "podinfo", added, namespace=namespace)

    await kube.patch_merge(
        HELM_RELEASE, "podinfo", {"spec": {"values": {"replicas": 2}}}, namespace=namespace
    )
    await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 2
    # A replace puts Helm's manifest in place whole: what someone else added is gone.
    assert "added-by-hand" not in deployment["metadata"]["labels"]

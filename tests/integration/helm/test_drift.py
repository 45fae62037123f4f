"""``driftDetection``: a changed object is put back (``enabled``) or named (``warn``)."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    request_reconcile,
    wait_for,
)
from tests.integration.helpers import condition, events_for
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_drift_is_corrected_when_enabled_and_named_when_warned(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    for name, mode in (("fixed", "enabled"), ("watched", "warn")):
        await create_release(kube, namespace, name, {
            "values": {"replicas": 1}, "driftDetection": {"mode": mode},
        })  # fmt: skip
    for name in ("fixed", "watched"):
        await wait_for(kube, namespace, name, status="True", reason="InstallSucceeded")

    # Nothing drifted yet: a reconcile finds nothing to say.
    await request_reconcile(kube, namespace, "watched", "before")
    obj = await kube.get(HELM_RELEASE, "watched", namespace=namespace)
    assert "drift detected" not in condition(obj, "Ready")["message"]

    # Someone scales both by hand.
    for name in ("fixed", "watched"):
        scale = {"spec": {"replicas": 4}}
        await kube.patch_merge(DEPLOYMENT, name, scale, namespace=namespace)

    await request_reconcile(kube, namespace, "fixed", "after")
    deployment = await kube.get(DEPLOYMENT, "fixed", namespace=namespace)
    assert deployment["spec"]["replicas"] == 1
    events = await events_for(kube, namespace, "fixed")
    [corrected] = [e for e in events if e["reason"] == "DriftCorrected"]
    assert corrected["message"] == f"Cluster state corrected: Deployment/{namespace}/fixed"
    obj = await kube.get(HELM_RELEASE, "fixed", namespace=namespace)
    assert condition(obj, "Ready")["status"] == "True"
    assert obj["status"]["history"][0]["version"] == 1  # put back without a Helm upgrade

    await request_reconcile(kube, namespace, "watched", "after")
    deployment = await kube.get(DEPLOYMENT, "watched", namespace=namespace)
    assert deployment["spec"]["replicas"] == 4  # warn leaves it
    obj = await kube.get(HELM_RELEASE, "watched", namespace=namespace)
    ready = condition(obj, "Ready")
    assert ready["status"] == "True"
    assert ready["message"].endswith(f"; drift detected: Deployment/{namespace}/watched")
    events = await events_for(kube, namespace, "watched")
    assert any(e["reason"] == "DriftDetected" and e["type"] == "Warning" for e in events)


async def test_ignored_fields_are_neither_reported_nor_put_back(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {
        "values": {"replicas": 1},
        "driftDetection": {
            "mode": "enabled",
            "ignore": [
                {"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}},
                {"paths": ["/metadata/annotations/greeting"], "target": {"kind": "Secret"}},
            ],
        },
    })  # fmt: skip
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    # Only an ignored field changes (an autoscaler's, say): no drift, nothing put back.
    await kube.patch_merge(DEPLOYMENT, "podinfo", {"spec": {"replicas": 3}}, namespace=namespace)
    await request_reconcile(kube, namespace, "podinfo", "scaled")
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 3
    assert not [e for e in await events_for(kube, namespace, "podinfo") if "Drift" in e["reason"]]
    obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
    assert "drift" not in condition(obj, "Ready")["message"]

    # A field no rule names (the other rule targets Secrets) is corrected; the ignored one stays.
    change = {"metadata": {"annotations": {"greeting": "changed"}}}
    await kube.patch_merge(DEPLOYMENT, "podinfo", change, namespace=namespace)
    await request_reconcile(kube, namespace, "podinfo", "annotated")
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["metadata"]["annotations"]["greeting"] == "hello"
    assert deployment["spec"]["replicas"] == 3
    events = await events_for(kube, namespace, "podinfo")
    [corrected] = [e for e in events if e["reason"] == "DriftCorrected"]
    assert corrected["message"] == f"Cluster state corrected: Deployment/{namespace}/podinfo"

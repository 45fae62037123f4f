"""The plugin's kstatus check finds a broken status on a Flux object in the test's namespace."""

from __future__ import annotations

import pytest

from tide.kube.client import KubeClient
from tide.notification.setup import RECEIVER
from tide.testing import ControlPlane, namespace_violations

pytestmark = pytest.mark.integration

BROKEN = {"observedGeneration": 1, "conditions": [{
    "type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok",
    "lastTransitionTime": "2026-11-22T12:00:00Z",
}, {
    "type": "Stalled", "status": "True", "reason": "InvalidSpec", "message": "bad",
    "lastTransitionTime": "2026-11-22T12:00:00Z",
}]}  # fmt: skip
"""Ready=True beside Stalled=True, and in the wrong order: what no controller may write."""


async def test_a_broken_status_is_named_with_its_object_and_rules(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str
) -> None:
    hook = {"metadata": {"name": "hook", "namespace": namespace}, "spec": {
        "type": "generic", "secretRef": {"name": "token"}, "resources": [
            {"kind": "GitRepository", "name": "app"}]}}  # fmt: skip
    created = await kube.create(RECEIVER, hook)
    assert namespace_violations(control_plane, namespace) == []  # no status yet: nothing to judge

    await kube.apply_status(RECEIVER, {**created, "status": BROKEN}, field_manager="broken")
    problems = namespace_violations(control_plane, namespace)

    assert problems and all(p.startswith("Receiver/hook: ") for p in problems), problems
    assert any("Stalled" in p and "Ready=True" in p for p in problems), problems
    await kube.delete(RECEIVER, "hook", namespace=namespace)  # or the plugin fails this test


async def test_a_spec_changed_a_moment_ago_is_in_progress_not_a_fault(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str
) -> None:
    hook = {"metadata": {"name": "hook", "namespace": namespace}, "spec": {
        "type": "generic", "secretRef": {"name": "token"}, "resources": [
            {"kind": "GitRepository", "name": "app"}]}}  # fmt: skip
    created = await kube.create(RECEIVER, hook)
    ready = {"observedGeneration": 1, "conditions": [{
        "type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok",
        "observedGeneration": 1, "lastTransitionTime": "2026-11-22T12:00:00Z"}]}  # fmt: skip
    await kube.apply_status(RECEIVER, {**created, "status": ready}, field_manager="fake")
    # The user changes the spec; no controller has looked at generation 2 yet.
    await kube.patch_merge(RECEIVER, "hook", {"spec": {"type": "github"}}, namespace=namespace)

    assert namespace_violations(control_plane, namespace) == []
    await kube.delete(RECEIVER, "hook", namespace=namespace)

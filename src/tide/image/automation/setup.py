"""Wire the image-automation controller into a manager: automations, and what wakes them.

An automation runs on its interval, on a spec change or ``requestedAt``, when a GitRepository it
commits to gets a new revision (or a new spec), and when an ImagePolicy of its namespace picks a
new image (``status.latestRef`` changes) or appears, goes or changes labels.
"""

from __future__ import annotations

from typing import Any

from tide.api import kinds
from tide.image.automation.policies import latest_ref
from tide.image.automation.reconciler import AutomationPipeline
from tide.kube.cache import object_key
from tide.kube.resources import resource_type
from tide.runtime.acl import ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.predicates import artifact_changed, changed
from tide.runtime.reconcile import Request

__all__ = ["COMPONENT", "IMAGE_POLICY", "IMAGE_UPDATE_AUTOMATION", "setup"]

COMPONENT = kinds.IMAGE_AUTOMATION_CONTROLLER
"""Name in events and ``managedFields``, as Flux's controller."""
IMAGE_UPDATE_AUTOMATION = resource_type("ImageUpdateAutomation")
IMAGE_POLICY = resource_type("ImagePolicy")
_GIT_REPOSITORY = resource_type("GitRepository")


def setup(manager: Manager, *, no_cross_namespace_refs: bool = False) -> Controller:
    """Register the ImageUpdateAutomation controller with ``manager``; return it.

    Args:
        manager: the manager to register with.
        no_cross_namespace_refs: refuse a ``sourceRef`` into another namespace (Flux's
            ``--no-cross-namespace-refs``; default False).
    """
    repositories = manager.cache_for(_GIT_REPOSITORY)
    policies = manager.cache_for(IMAGE_POLICY)
    automations = manager.cache_for(IMAGE_UPDATE_AUTOMATION)
    pipeline = AutomationPipeline(
        client=manager.client,
        git_repositories=repositories,
        image_policies=policies,
        reference_policy=ReferencePolicy(no_cross_namespace_refs=no_cross_namespace_refs),
    )
    controller = manager.add_object_controller(
        IMAGE_UPDATE_AUTOMATION, pipeline, component=COMPONENT
    )

    def on_policy(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        policy = new or old
        if policy is None or not _policy_changed(old, new):
            return
        namespace = object_key(policy)[0]
        for automation in automations.scan():
            if object_key(automation)[0] == namespace:
                controller.enqueue(Request(*object_key(automation)))

    def on_repository(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        repository = new or old
        if repository is None or not (artifact_changed(old, new) or (new and changed(old, new))):
            return
        namespace, name = object_key(repository)
        for automation in automations.scan():
            ref = (automation.get("spec") or {}).get("sourceRef") or {}
            own = object_key(automation)[0]
            if ref.get("name") == name and (ref.get("namespace") or own) == namespace:
                controller.enqueue(Request(*object_key(automation)))

    policies.add_handler(on_policy)
    repositories.add_handler(on_repository)
    return controller


def _policy_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Tell whether a policy's choice or labels changed (or it appeared or went)."""
    if old is None or new is None:
        return True
    labels = [(obj["metadata"].get("labels") or {}) for obj in (old, new)]
    return latest_ref(old) != latest_ref(new) or labels[0] != labels[1]

"""Wire the image reflector into a manager: ImageRepository and ImagePolicy controllers.

Policies are woken by their repository, not only by a timer: a change of an ImageRepository's
``status.lastScanResult.revision`` (new tags, tags gone), its deletion, or a scan that rewrote
the stored tags (storage emptied by a restart, so the revision is unchanged) enqueues every
ImagePolicy that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api import kinds
from tide.image import scan
from tide.image.budget import DEFAULT_RPS, RegistryBudget
from tide.image.policy import ImagePolicyPipeline, repository_key
from tide.image.repository import ImageRepositoryPipeline
from tide.image.tags import TagStore
from tide.kube.cache import WatchCache, object_key
from tide.kube.resources import resource_type
from tide.runtime.acl import ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request

__all__ = [
    "COMPONENT",
    "DEFAULT_RPS",
    "IMAGE_POLICY",
    "IMAGE_REPOSITORY",
    "ImageReflector",
    "scan_changed",
    "setup",
]

COMPONENT = kinds.IMAGE_REFLECTOR_CONTROLLER
"""Name in events and ``managedFields``, as Flux's controller."""
IMAGE_REPOSITORY = resource_type("ImageRepository")
IMAGE_POLICY = resource_type("ImagePolicy")


@dataclass
class ImageReflector:
    """What ``setup`` made, for tests and benchmarks to inspect."""

    store: TagStore
    budget: RegistryBudget
    repositories: Controller
    policies: Controller


def scan_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Tell whether an ImageRepository's scanned tags changed: new revision, or object gone."""
    if new is None:
        return old is not None
    return _revision(old) != _revision(new)


def _revision(obj: Mapping[str, Any] | None) -> str | None:
    result = ((obj or {}).get("status") or {}).get("lastScanResult") or {}
    return result.get("revision")


def setup(
    manager: Manager,
    *,
    storage_path: Path,
    registry_rps: float = DEFAULT_RPS,
    no_cross_namespace_refs: bool = False,
    page_size: int | None = scan.DEFAULT_PAGE_SIZE,
) -> ImageReflector:
    """Register the ImageRepository and ImagePolicy controllers.

    Args:
        manager: the manager to run them in.
        storage_path: the controller's storage (``--storage-path``); tags go below it.
        registry_rps: requests per second per registry host (``--registry-rps``; 0: no limit).
        no_cross_namespace_refs: refuse ImagePolicies naming another namespace.
        page_size: tags asked for per page of a tag listing.
    """
    store = TagStore(storage_path)
    budget = RegistryBudget(registry_rps)
    policy_cache = manager.cache_for(IMAGE_POLICY)
    repository_cache = manager.cache_for(IMAGE_REPOSITORY)
    policies = manager.add_object_controller(
        IMAGE_POLICY,
        ImagePolicyPipeline(
            client=manager.client,
            repositories=repository_cache,
            store=store,
            budget=budget,
            references=ReferencePolicy(no_cross_namespace_refs=no_cross_namespace_refs),
        ),
        component=COMPONENT,
    )

    def wake(namespace: str, name: str) -> None:
        _enqueue_policies(policy_cache, policies, (namespace, name))

    repositories = manager.add_object_controller(
        IMAGE_REPOSITORY,
        ImageRepositoryPipeline(
            client=manager.client,
            store=store,
            budget=budget,
            page_size=page_size,
            on_tags_written=wake,
        ),
        component=COMPONENT,
    )

    def on_repository(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if scan_changed(old, new):
            wake(*object_key(new or old or {}))

    repository_cache.add_handler(on_repository)
    return ImageReflector(store, budget, repositories, policies)


def _enqueue_policies(cache: WatchCache, controller: Controller, key: tuple[str, str]) -> None:
    for policy in cache.scan():
        if repository_key(dict(policy)) == key:
            controller.enqueue(Request(*object_key(policy)))

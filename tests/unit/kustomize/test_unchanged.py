"""Telling an idle Kustomization from one with work, by fingerprint and watched versions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tide.api.kustomize import Kustomization
from tide.kube import resources
from tide.kube.resources import ResourceType
from tide.kube.ssa import Action, ChangeSet
from tide.kube.ssa.changeset import ChangeSetEntry, ObjectRef
from tide.kube.versions import LiveVersions
from tide.kustomize.unchanged import Fingerprint, Unchanged
from tide.testing import FakeKubeClient

pytestmark = pytest.mark.unit

LABEL = "kustomize.toolkit.fluxcd.io/name"
KEY = ("apps", "web")


class Mapper:
    """Discovery for the one kind these tests apply (the fake client has none)."""

    async def resource_type(self, api_version: str, kind: str) -> ResourceType:
        assert (api_version, kind) == ("v1", "ConfigMap")
        return resources.CONFIG_MAP


def kustomization(**spec: Any) -> Kustomization:
    return Kustomization.model_validate({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "web", "namespace": "apps", "uid": "u-1", "generation": 1},
        "spec": {"interval": "1m", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}, **spec},
    })  # fmt: skip


FINGERPRINT = Fingerprint.of(kustomization(), revision="main@sha1:1", digest="sha256:a")


@pytest_asyncio.fixture
async def world() -> AsyncIterator[tuple[FakeKubeClient, LiveVersions]]:
    client = FakeKubeClient()
    versions = LiveVersions(client, label=LABEL)
    await versions.start()
    yield client, versions
    await versions.stop()


async def applied(client: FakeKubeClient, *names: str) -> ChangeSet:
    """Apply ConfigMaps ``names`` as a Kustomization would; return its change set."""
    changes = ChangeSet()
    for name in names:
        manifest = {
            "apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "1"},
            "metadata": {"name": name, "namespace": "apps", "labels": {LABEL: "web"}},
        }  # fmt: skip
        stored = await client.apply(resources.CONFIG_MAP, manifest)
        ref = ObjectRef.of(manifest)
        changes.add(ChangeSetEntry(ref.id, ref.subject, Action.CREATED, "v1", stored=stored))
    return changes


async def remembered(
    client: FakeKubeClient, versions: LiveVersions, *names: str
) -> tuple[Unchanged, dict[str, Any]]:
    """Apply ``names``, remember it, and wait until the ConfigMap watch follows."""
    changes = await applied(client, *names)
    status = {
        "lastAppliedRevision": "main@sha1:1",
        "inventory": {"entries": changes.to_inventory()},
    }
    unchanged = Unchanged(versions)
    await unchanged.remember(KEY, FINGERPRINT, changes, status=status, mapper=Mapper())  # type: ignore[arg-type]
    async with asyncio.timeout(5):
        while not versions.following(resources.CONFIG_MAP):
            await asyncio.sleep(0.01)
    await client.settle()
    return unchanged, status


async def test_nothing_touched_since_the_apply_holds(world: Any) -> None:
    client, versions = world
    unchanged, status = await remembered(client, versions, "a", "b")
    assert unchanged.holds(KEY, FINGERPRINT, status)
    assert unchanged.holds(KEY, FINGERPRINT, status)  # and again: memory is kept while it holds


async def test_an_edited_object_does_not_hold_and_the_memory_is_dropped(world: Any) -> None:
    client, versions = world
    unchanged, status = await remembered(client, versions, "a", "b")
    await client.patch_merge(resources.CONFIG_MAP, "b", {"data": {"k": "2"}}, namespace="apps")
    await client.settle()
    assert not unchanged.holds(KEY, FINGERPRINT, status)
    await client.patch_merge(resources.CONFIG_MAP, "b", {"data": {"k": "1"}}, namespace="apps")
    await client.settle()
    assert not unchanged.holds(KEY, FINGERPRINT, status)  # only a new apply remembers again


async def test_a_deleted_object_does_not_hold(world: Any) -> None:
    client, versions = world
    unchanged, status = await remembered(client, versions, "a", "b")
    await client.delete(resources.CONFIG_MAP, "a", namespace="apps")
    await client.settle()
    assert not unchanged.holds(KEY, FINGERPRINT, status)


@pytest.mark.parametrize(
    "other",
    [
        Fingerprint.of(kustomization(), revision="main@sha1:2", digest="sha256:a"),
        Fingerprint.of(kustomization(), revision="main@sha1:1", digest="sha256:b"),
        None,
    ],
    ids=["new revision", "other manifests", "never skipped"],
)
async def test_a_different_fingerprint_does_not_hold(world: Any, other: Fingerprint | None) -> None:
    client, versions = world
    unchanged, status = await remembered(client, versions, "a")
    assert not unchanged.holds(KEY, other, status)


async def test_a_status_that_is_not_what_was_remembered_does_not_hold(world: Any) -> None:
    client, versions = world
    unchanged, status = await remembered(client, versions, "a")
    assert not unchanged.holds(KEY, FINGERPRINT, {**status, "inventory": {"entries": []}})


async def test_nothing_holds_before_the_watches_may_start() -> None:
    client = FakeKubeClient()
    versions = LiveVersions(client, label=LABEL)  # never started, as outside a manager
    changes = await applied(client, "a")
    status = {
        "lastAppliedRevision": "main@sha1:1",
        "inventory": {"entries": changes.to_inventory()},
    }
    unchanged = Unchanged(versions)
    await unchanged.remember(KEY, FINGERPRINT, changes, status=status, mapper=Mapper())  # type: ignore[arg-type]
    assert not unchanged.holds(KEY, FINGERPRINT, status)


def test_remote_clusters_and_health_checks_are_never_skipped() -> None:
    remote = kustomization(kubeConfig={"secretRef": {"name": "remote"}})
    checks = kustomization(healthChecks=[{"kind": "HelmRelease", "name": "db"}])
    assert Fingerprint.of(remote, revision="r", digest="d") is None
    assert Fingerprint.of(checks, revision="r", digest="d") is None

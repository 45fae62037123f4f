"""Flux's sharding: two ``tide controller`` processes, each with its own ``--watch-label-selector``.

Each process takes the objects labelled for its shard and only those, holds a Lease of its own,
and still reads what its objects refer to in the other shard (a GitRepository, a ``dependsOn``
Kustomization) or outside any shard (a ConfigMap of variables).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.conftest import controller_process
from tests.integration.helpers import condition, eventually
from tide.api.keys import FINALIZER
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import shard_lease_name
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

SHARD_KEY = "sharding.fluxcd.io/key"
LEASE = "tide-source-kustomize-leader-election"
"""The Lease `tide controller --controllers source,kustomize` elects its leader on."""


def config_map(name: str, data: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {data}\n"


@pytest.fixture
def shards(
    control_plane: ControlPlane, crds: list[str], namespace: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """Two controller processes, one per shard; yields each shard's label value by name."""
    token = uuid.uuid4().hex[:8]  # other tests' objects carry no such label
    values = {"one": f"one-{token}", "two": f"two-{token}"}
    with (
        controller_process(control_plane, tmp_path / "one", *_flags(namespace, values["one"])),
        controller_process(control_plane, tmp_path / "two", *_flags(namespace, values["two"])),
    ):
        yield values


def _flags(namespace: str, shard: str) -> list[str]:
    return [
        "--controllers", "source,kustomize",
        "--watch-label-selector", f"{SHARD_KEY} in ({shard})",
        "--leader-election-namespace", namespace,
        "--log-level", "warning",
    ]  # fmt: skip


async def test_each_controller_reconciles_only_its_shard_and_holds_its_own_lease(
    kube: KubeClient, namespace: str, git_server: GitServer, shards: dict[str, str]
) -> None:
    repo = f"sharded-{namespace}"
    git_server.create_repo(repo, {
        "one/config.yaml": config_map("from-one", "color: red"),
        "two/config.yaml": config_map("from-two", "color: ${color}"),
        "left/config.yaml": config_map("left-out", "color: grey"),
    })  # fmt: skip
    await kube.create(resources.CONFIG_MAP, {
        "metadata": {"name": "vars", "namespace": namespace}, "data": {"color": "green"},
    })  # fmt: skip
    # Shard one has the only GitRepository; shard two's Kustomization reads it across shards
    # and waits for shard one's Kustomization.
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": namespace, "labels": _shard(shards["one"])},
        "spec": {"interval": "10m", "url": git_server.http_url(repo), "ref": {"branch": "main"}},
    })  # fmt: skip
    for name, shard, spec in (
        ("app-one", shards["one"], {"path": "./one"}),
        ("app-two", shards["two"], {"path": "./two", "dependsOn": [{"name": "app-one"}],
            "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}}),
        ("unsharded", None, {"path": "./left"}),
    ):  # fmt: skip
        await kube.create(KUSTOMIZATION, {
            "metadata": {"name": name, "namespace": namespace, "labels": _shard(shard)},
            "spec": {"interval": "10m", "prune": True, "sourceRef": {
                "kind": "GitRepository", "name": "fleet"}, "targetNamespace": namespace, **spec},
        })  # fmt: skip

    async def leases() -> dict[str, str] | None:
        found = {}
        for shard, value in shards.items():
            name = shard_lease_name(LEASE, f"{SHARD_KEY} in ({value})")
            lease = await kube.get_or_none(resources.LEASE, name, namespace=namespace)
            if lease is None or not lease["spec"].get("holderIdentity"):
                return None
            found[shard] = lease["spec"]["holderIdentity"]
        return found

    holders = await eventually(leases, timeout=90, what="a Lease held per shard")
    assert holders["one"] != holders["two"]
    assert await kube.get_or_none(resources.LEASE, LEASE, namespace=namespace) is None

    async def ready() -> bool:
        for name in ("app-one", "app-two"):
            obj = await kube.get(KUSTOMIZATION, name, namespace=namespace)
            if (condition(obj, "Ready") or {}).get("status") != "True":
                return False
        return True

    await eventually(ready, timeout=90, what="both shards' Kustomizations Ready")
    applied = await kube.get(resources.CONFIG_MAP, "from-two", namespace=namespace)
    assert applied["data"] == {"color": "green"}  # the unsharded ConfigMap was read
    unsharded = await kube.get(KUSTOMIZATION, "unsharded", namespace=namespace)
    assert not (unsharded.get("status") or {}).get("conditions")
    assert FINALIZER not in (unsharded["metadata"].get("finalizers") or [])
    assert await kube.get_or_none(resources.CONFIG_MAP, "left-out", namespace=namespace) is None

    reporters = await _reporters(kube, namespace)
    assert reporters == {
        ("GitRepository", "fleet"): {holders["one"]},
        ("Kustomization", "app-one"): {holders["one"]},
        ("Kustomization", "app-two"): {holders["two"]},
    }

    # Deleted while both controllers run: each releases its own objects' finalizers.
    for name in ("app-one", "app-two", "unsharded"):
        await kube.delete(KUSTOMIZATION, name, namespace=namespace)
    await kube.delete(GIT_REPOSITORY, "fleet", namespace=namespace)

    async def gone() -> bool:
        left = [
            obj
            for rt in (KUSTOMIZATION, GIT_REPOSITORY)
            for obj in (await kube.list(rt, namespace=namespace))[0]
        ]
        return not left

    await eventually(gone, timeout=60, what="the sharded objects to be deleted")


def _shard(value: str | None) -> dict[str, str]:
    return {SHARD_KEY: value} if value else {}


async def _reporters(kube: KubeClient, namespace: str) -> dict[tuple[str, str], set[Any]]:
    """Which controller instances recorded events about each object in ``namespace``."""
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    found: dict[tuple[str, str], set[Any]] = {}
    for event in events:
        involved = event["involvedObject"]
        if involved.get("kind") in ("GitRepository", "Kustomization"):
            key = (involved["kind"], involved["name"])
            found.setdefault(key, set()).add(event.get("reportingInstance"))
    return found

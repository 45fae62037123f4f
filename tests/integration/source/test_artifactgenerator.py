"""ArtifactGenerator on the real cluster: a Git monorepo split into ExternalArtifacts.

Flux's monorepo example: one GitRepository, a generator turning ``apps/`` and
``infrastructure/`` into two ExternalArtifacts, and a Kustomization on each. A push touching
only ``apps/`` rolls out apps and leaves the infrastructure artifact and its Kustomization
exactly as they were.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.integration.helpers import (
    assert_kstatus,
    condition,
    drain,
    events_for,
    eventually,
    reconcile_count,
    settled,
)
from tide import source
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.generator.external import ARTIFACT_GENERATOR, EXTERNAL_ARTIFACT
from tide.source.setup import GIT_REPOSITORY, SourceRuntime
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration


def _config_map(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: {value}\n"


MONOREPO = {
    "apps/podinfo/config.yaml": _config_map("podinfo", "blue"),
    "apps/podinfo/README.md": "# podinfo\n",
    "apps/kustomization.yaml": "resources:\n  - podinfo/config.yaml\n",
    "infrastructure/redis/config.yaml": _config_map("redis", "v7"),
    "infrastructure/kustomization.yaml": "resources:\n  - redis/config.yaml\n",
    "README.md": "# monorepo\n",
}
GENERATOR = {
    "sources": [{"alias": "repo", "kind": "GitRepository", "name": "monorepo"}],
    "artifacts": [
        {
            "name": "apps",
            "originRevision": "@repo",
            "copy": [{"from": "@repo/apps/**", "to": "@artifact/", "exclude": ["*.md"]}],
        },
        {
            "name": "infrastructure",
            "originRevision": "@repo",
            "copy": [{"from": "@repo/infrastructure/**", "to": "@artifact/"}],
        },
    ],
}


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def controllers(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[Manager, SourceRuntime]]:
    """The source controller (with the generator, cross-namespace sources off) and kustomize."""
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    manager = Manager(client, options)
    runtime = source.setup(
        manager,
        source.SourceOptions(
            storage_path=tmp_path / "storage",
            storage_host="127.0.0.1",
            storage_port=0,
            no_cross_namespace_refs=True,
        ),
    )
    setup_kustomize(manager)
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="controllers' caches to sync")
    yield manager, runtime
    for rt in (KUSTOMIZATION, ARTIFACT_GENERATOR, EXTERNAL_ARTIFACT, GIT_REPOSITORY):
        await drain(kube, rt, namespace, timeout=60)
    manager.stop()
    await asyncio.wait_for(task, timeout=40)
    await client.close()


async def _git_repository(kube: KubeClient, namespace: str, url: str) -> None:
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "monorepo", "namespace": namespace},
        "spec": {"interval": "10m", "url": url, "ref": {"branch": "main"}},
    })  # fmt: skip


async def _generator(
    kube: KubeClient, namespace: str, spec: dict[str, Any], name: str = "monorepo"
) -> None:
    await kube.create(ARTIFACT_GENERATOR, {
        "metadata": {"name": name, "namespace": namespace}, "spec": spec,
    })  # fmt: skip


async def _kustomization(kube: KubeClient, namespace: str, name: str) -> None:
    await kube.create(KUSTOMIZATION, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "10m", "prune": True, "path": "./", "targetNamespace": namespace,
            "sourceRef": {"kind": "ExternalArtifact", "name": name},
        },
    })  # fmt: skip


async def _wait_ready(
    kube: KubeClient,
    rt: ResourceType,
    namespace: str,
    name: str,
    *,
    status: str = "True",
    reason: str | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        obj = await kube.get_or_none(rt, name, namespace=namespace)
        ready = condition(obj or {}, "Ready")
        if obj is None or ready is None or ready["status"] != status:
            return None
        if ready.get("observedGeneration") != obj["metadata"].get("generation"):
            return None
        return obj if reason is None or ready["reason"] == reason else None

    return await eventually(
        probe, timeout=timeout, what=f"{rt.kind} {name} Ready={status} {reason or ''}"
    )


async def _generator_events(kube: KubeClient, namespace: str) -> list[dict[str, Any]]:
    events = await events_for(kube, namespace, "monorepo")
    return [e for e in events if e["involvedObject"]["kind"] == "ArtifactGenerator"]


async def _request(
    kube: KubeClient, rt: ResourceType, namespace: str, name: str, token: str
) -> None:
    await kube.patch_merge(rt, name, {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": token}}}, namespace=namespace)  # fmt: skip


async def test_a_push_to_apps_rolls_out_apps_and_leaves_infrastructure_untouched(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"mono-{namespace[-8:]}"
    first = git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _generator(kube, namespace, GENERATOR)
    for name in ("apps", "infrastructure"):
        await _kustomization(kube, namespace, name)

    generator = await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo")
    ready = condition(generator, "Ready")
    assert ready is not None
    assert (ready["reason"], ready["message"]) == (
        "Succeeded",
        "reconciliation succeeded, generated 2 artifact(s)",
    )
    assert_kstatus(generator)
    inventory = {e["name"]: e for e in generator["status"]["inventory"]}
    assert set(inventory) == {"apps", "infrastructure"}

    apps = await kube.get(EXTERNAL_ARTIFACT, "apps", namespace=namespace)
    artifact = apps["status"]["artifact"]
    assert artifact["revision"] == f"latest@{artifact['digest']}"
    assert artifact["metadata"] == {"org.opencontainers.image.revision": f"main@sha1:{first}"}
    hexdigest = artifact["digest"].removeprefix("sha256:")
    assert artifact["path"] == f"externalartifact/{namespace}/apps/{hexdigest}.tar.gz"
    assert inventory["apps"] == {
        "name": "apps", "namespace": namespace, "digest": artifact["digest"],
        "filename": f"{hexdigest}.tar.gz",
    }  # fmt: skip
    async with httpx.AsyncClient() as http:  # served by the source controller's own server
        body = (await http.get(artifact["url"])).content
    assert f"sha256:{hashlib.sha256(body).hexdigest()}" == artifact["digest"]
    assert artifact["size"] == len(body)
    assert apps["spec"]["sourceRef"] == {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1", "kind": "ArtifactGenerator",
        "name": "monorepo", "namespace": namespace,
    }  # fmt: skip
    [owner] = apps["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("ArtifactGenerator", generator["metadata"]["uid"])
    assert_kstatus(apps)
    ea_ready = condition(apps, "Ready")
    assert ea_ready is not None and (ea_ready["status"], ea_ready["reason"]) == (
        "True",
        "Succeeded",
    )

    for name in ("apps", "infrastructure"):
        await _wait_ready(kube, KUSTOMIZATION, namespace, name)
    podinfo = await kube.get(resources.CONFIG_MAP, "podinfo", namespace=namespace)
    redis = await kube.get(resources.CONFIG_MAP, "redis", namespace=namespace)
    assert (podinfo["data"]["value"], redis["data"]["value"]) == ("blue", "v7")

    infra_before = await kube.get(EXTERNAL_ARTIFACT, "infrastructure", namespace=namespace)
    infra_ks_before = await kube.get(KUSTOMIZATION, "infrastructure", namespace=namespace)
    infra_reconciles = reconcile_count("Kustomization", namespace, "infrastructure")
    digest_before = generator["status"]["observedSourcesDigest"]

    second = git_server.commit(repo, {"apps/podinfo/config.yaml": _config_map("podinfo", "green")})
    await _request(kube, GIT_REPOSITORY, namespace, "monorepo", "push")

    async def rolled_out() -> bool:
        live = await kube.get(resources.CONFIG_MAP, "podinfo", namespace=namespace)
        return live["data"]["value"] == "green"

    await eventually(rolled_out, what="the apps change to roll out")
    apps_after = await kube.get(EXTERNAL_ARTIFACT, "apps", namespace=namespace)
    assert apps_after["status"]["artifact"]["digest"] != artifact["digest"]
    assert apps_after["status"]["artifact"]["metadata"] == {
        "org.opencontainers.image.revision": f"main@sha1:{second}"
    }

    async def generator_settled() -> dict[str, Any] | None:
        obj = await kube.get(ARTIFACT_GENERATOR, "monorepo", namespace=namespace)
        moved = obj["status"].get("observedSourcesDigest") != digest_before
        return obj if moved and condition(obj, "Ready")["status"] == "True" else None  # type: ignore[index]

    generator = await eventually(generator_settled, what="the generator to see the new commit")
    apps_ks = await _wait_ready(kube, KUSTOMIZATION, namespace, "apps")
    assert apps_ks["status"]["lastAppliedRevision"] == apps_after["status"]["artifact"]["revision"]

    # Same content, same artifact: not even a status write, so nothing downstream moved.
    infra_after = await kube.get(EXTERNAL_ARTIFACT, "infrastructure", namespace=namespace)
    assert infra_after["metadata"]["resourceVersion"] == infra_before["metadata"]["resourceVersion"]
    assert infra_after["status"] == infra_before["status"]
    infra_ks_after = await kube.get(KUSTOMIZATION, "infrastructure", namespace=namespace)
    assert (
        infra_ks_after["metadata"]["resourceVersion"]
        == (infra_ks_before["metadata"]["resourceVersion"])
    )
    assert reconcile_count("Kustomization", namespace, "infrastructure") == infra_reconciles
    events = await _generator_events(kube, namespace)
    new_artifacts = sorted(e["message"] for e in events if e["reason"] == "NewArtifact")
    apps_revision = apps_after["status"]["artifact"]["revision"]
    infra_revision = infra_after["status"]["artifact"]["revision"]
    assert new_artifacts == sorted([
        f"ExternalArtifact/{namespace}/apps reconciled with revision {artifact['revision']}",
        f"ExternalArtifact/{namespace}/apps reconciled with revision {apps_revision}",
        f"ExternalArtifact/{namespace}/infrastructure reconciled with revision {infra_revision}",
    ])  # fmt: skip


async def test_an_idle_generator_writes_nothing(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    manager, _ = controllers
    repo = f"idle-{namespace[-8:]}"
    git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _generator(kube, namespace, GENERATOR)
    await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo")
    await settled(kube, manager, ARTIFACT_GENERATOR, namespace, "monorepo")  # its writes are done
    writes = manager.client.total_writes(namespace=namespace, kinds=("ExternalArtifact",))
    await _request(kube, ARTIFACT_GENERATOR, namespace, "monorepo", "again")

    async def handled() -> bool:
        obj = await kube.get(ARTIFACT_GENERATOR, "monorepo", namespace=namespace)
        return obj["status"].get("lastHandledReconcileAt") == "again"

    await eventually(handled, what="the requested reconcile")
    assert manager.client.total_writes(namespace=namespace, kinds=("ExternalArtifact",)) == writes


async def test_deleting_the_generator_deletes_its_external_artifacts_and_their_files(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    _, runtime = controllers
    repo = f"gone-{namespace[-8:]}"
    git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _generator(kube, namespace, GENERATOR)
    await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo")
    folder = runtime.storage.folder("ExternalArtifact", namespace, "infrastructure")
    assert any(folder.iterdir())

    # An artifact dropped from the spec is deleted with its files.
    await kube.patch_merge(
        ARTIFACT_GENERATOR, "monorepo",
        {"spec": {"artifacts": GENERATOR["artifacts"][:1]}}, namespace=namespace,
    )  # fmt: skip

    async def dropped() -> bool:
        gone = await kube.get_or_none(EXTERNAL_ARTIFACT, "infrastructure", namespace=namespace)
        return gone is None and not folder.exists()

    await eventually(dropped, what="the dropped ExternalArtifact and its files to go")
    generator = await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo")
    assert [e["name"] for e in generator["status"]["inventory"]] == ["apps"]

    await kube.delete(ARTIFACT_GENERATOR, "monorepo", namespace=namespace)
    apps_folder = runtime.storage.folder("ExternalArtifact", namespace, "apps")

    async def deleted() -> bool:
        left, _ = await kube.list(EXTERNAL_ARTIFACT, namespace=namespace)
        generator = await kube.get_or_none(ARTIFACT_GENERATOR, "monorepo", namespace=namespace)
        return not left and generator is None and not apps_folder.exists()

    await eventually(deleted, what="the generator, its ExternalArtifacts and their files to go")


async def test_an_unknown_alias_stalls_with_validation_failed(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    spec = {
        "sources": GENERATOR["sources"],
        "artifacts": [{"name": "apps", "copy": [{"from": "@mono/apps/**", "to": "@artifact/"}]}],
    }
    await _generator(kube, namespace, spec)
    obj = await _wait_ready(
        kube, ARTIFACT_GENERATOR, namespace, "monorepo", status="False", reason="ValidationFailed"
    )
    message = (
        "spec.artifacts[0] (apps).copy[0].from: '@mono' names no source; declared aliases: repo"
    )
    assert condition(obj, "Ready")["message"] == message  # type: ignore[index]
    assert condition(obj, "Stalled")["reason"] == "ValidationFailed"  # type: ignore[index]
    assert_kstatus(obj)
    events = await _generator_events(kube, namespace)
    assert any(e["type"] == "Warning" and e["message"] == message for e in events)


async def test_a_missing_source_is_waited_for_and_picked_up_once_it_has_an_artifact(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    await _generator(kube, namespace, GENERATOR)
    obj = await _wait_ready(
        kube, ARTIFACT_GENERATOR, namespace, "monorepo", status="False", reason="SourceFetchFailed"
    )
    message = (
        f"get sources failed: GitRepository '{namespace}/monorepo' "
        "(spec.sources[0] (alias 'repo')) not found"
    )
    assert condition(obj, "Ready")["message"] == message  # type: ignore[index]
    assert condition(obj, "Stalled") is None
    events = await _generator_events(kube, namespace)
    assert any(e["type"] == "Warning" and e["reason"] == "SourceFetchFailed" for e in events)

    repo = f"late-{namespace[-8:]}"
    git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo", reason="Succeeded")


async def test_a_copy_matching_nothing_fails_the_build_and_keeps_the_previous_artifact(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"build-{namespace[-8:]}"
    git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _generator(kube, namespace, GENERATOR)
    await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo")
    before = await kube.get(EXTERNAL_ARTIFACT, "apps", namespace=namespace)

    git_server.commit(repo, {"apps/podinfo/config.yaml": None, "apps/podinfo/README.md": None,
                             "apps/kustomization.yaml": None})  # fmt: skip
    await _request(kube, GIT_REPOSITORY, namespace, "monorepo", "emptied")
    obj = await _wait_ready(
        kube, ARTIFACT_GENERATOR, namespace, "monorepo", status="False", reason="BuildFailed"
    )
    assert condition(obj, "Ready")["message"] == (  # type: ignore[index]
        "apps build failed: '@repo/apps/**' → '@artifact/': no files match 'apps/**' "
        "in source 'repo'"
    )
    after = await kube.get(EXTERNAL_ARTIFACT, "apps", namespace=namespace)
    assert after["status"] == before["status"]


async def test_a_source_in_another_namespace_is_refused_when_cross_namespace_refs_are_off(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    spec = {**GENERATOR, "sources": [{**GENERATOR["sources"][0], "namespace": "flux-system"}]}
    await _generator(kube, namespace, spec)
    obj = await _wait_ready(
        kube, ARTIFACT_GENERATOR, namespace, "monorepo", status="False", reason="AccessDenied"
    )
    assert condition(obj, "Ready")["message"] == (  # type: ignore[index]
        "can't access 'GitRepository/flux-system/monorepo', "
        "cross-namespace references have been blocked"
    )
    assert condition(obj, "Stalled")["reason"] == "AccessDenied"  # type: ignore[index]
    events = await _generator_events(kube, namespace)
    assert any(e["type"] == "Warning" and e["reason"] == "AccessDenied" for e in events)


async def test_a_deleted_external_artifact_is_put_back(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"back-{namespace[-8:]}"
    git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _generator(kube, namespace, GENERATOR)
    await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "monorepo")
    before = await kube.get(EXTERNAL_ARTIFACT, "apps", namespace=namespace)

    await kube.delete(EXTERNAL_ARTIFACT, "apps", namespace=namespace)

    async def recreated() -> dict[str, Any] | None:
        obj = await kube.get_or_none(EXTERNAL_ARTIFACT, "apps", namespace=namespace)
        fresh = obj is not None and obj["metadata"]["uid"] != before["metadata"]["uid"]
        return obj if fresh and (obj.get("status") or {}).get("artifact") else None

    after = await eventually(recreated, what="the deleted ExternalArtifact to be put back")
    assert after["status"]["artifact"]["digest"] == before["status"]["artifact"]["digest"]


async def test_an_external_artifact_can_feed_another_generator(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"chain-{namespace[-8:]}"
    commit = git_server.create_repo(repo, MONOREPO)
    await _git_repository(kube, namespace, git_server.http_url(repo))
    await _generator(kube, namespace, GENERATOR)
    await _generator(kube, namespace, {
        "sources": [
            {"alias": "apps", "kind": "ExternalArtifact", "name": "apps"},
            {"alias": "infra", "kind": "ExternalArtifact", "name": "infrastructure"},
        ],
        "artifacts": [{
            "name": "bundle",
            "revision": "@apps",
            "originRevision": "@apps",
            "copy": [
                {"from": "@apps/", "to": "@artifact/apps/"},
                {"from": "@infra/redis/config.yaml", "to": "@artifact/redis.yaml"},
            ],
        }],
    }, name="bundle")  # fmt: skip
    await _wait_ready(kube, ARTIFACT_GENERATOR, namespace, "bundle")
    apps = await kube.get(EXTERNAL_ARTIFACT, "apps", namespace=namespace)
    bundle = await kube.get(EXTERNAL_ARTIFACT, "bundle", namespace=namespace)
    artifact = bundle["status"]["artifact"]
    # revision: the source's own; originRevision: the commit the source came from.
    assert artifact["revision"] == apps["status"]["artifact"]["revision"]
    assert artifact["metadata"] == {"org.opencontainers.image.revision": f"main@sha1:{commit}"}
    async with httpx.AsyncClient() as http:
        body = (await http.get(artifact["url"])).content
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        names = sorted(tar.getnames())
    assert names == ["apps/kustomization.yaml", "apps/podinfo/config.yaml", "redis.yaml"]

"""Builds of one artifact digest share one read-only unpacked copy, each building its own path.

Over a real loopback artifact server and the real build server: a monorepo artifact with two
apps is downloaded and unpacked once for both builds, nothing is written into the copy, and
unused copies beyond the capacity are removed.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tide.artifacts import ArtifactFetchError, ArtifactServer, Storage
from tide.kustomize import server_binary
from tide.kustomize.build import BuildOptions
from tide.kustomize.unpacked import UnpackedArtifacts

pytestmark = [pytest.mark.unit, pytest.mark.timeout(120)]

FILES = {
    "apps/shop/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\n",
    "apps/blog/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: blog-\n",
    "apps/blog/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\n",
}


@pytest_asyncio.fixture(loop_scope="session")
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    server_binary.ensure_server()  # so builds go to the build server, as in the controller
    store = Storage(tmp_path / "storage", base_url="")
    server = ArtifactServer(store, host="127.0.0.1", port=0)
    await server.start()
    store.base_url = f"http://127.0.0.1:{server.port}"
    yield store
    await server.stop()


def artifact(storage: Storage, tmp_path: Path, name: str) -> dict[str, str]:
    archive = tmp_path / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path, text in {**FILES, "name.txt": name}.items():
            info = tarfile.TarInfo(path)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    stored = storage.store("GitRepository", "ns", name, archive, revision="main@sha1:1")
    return {"url": stored.url, "digest": stored.digest}


def names(objects: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


async def test_two_paths_of_one_artifact_are_unpacked_once(
    storage: Storage, tmp_path: Path
) -> None:
    unpacked, fetches = UnpackedArtifacts(), []
    source = artifact(storage, tmp_path, "mono")

    async def fetched() -> None:
        fetches.append(1)

    shop, blog = await asyncio.gather(
        unpacked.fetch_and_build(source, BuildOptions(path="apps/shop"), fetched=fetched),
        unpacked.fetch_and_build(source, BuildOptions(path="apps/blog"), fetched=fetched),
    )
    assert names(shop) == ["shop"] and names(blog) == ["blog-site"]
    assert unpacked.unpacks == 1 and len(fetches) == 2
    again = await unpacked.fetch_and_build(source, BuildOptions(path="apps/shop"))
    assert names(again) == ["shop"] and unpacked.unpacks == 1


async def test_the_shared_copy_is_read_only_and_never_written(
    storage: Storage, tmp_path: Path
) -> None:
    unpacked = UnpackedArtifacts()
    source = artifact(storage, tmp_path, "ro")
    async with unpacked.use(source["url"], source["digest"]) as root:
        await unpacked.fetch_and_build(source, BuildOptions(path="apps/shop", name_prefix="x-"))
        shop = root / "apps" / "shop"
        assert sorted(p.name for p in shop.iterdir()) == ["cm.yaml"]
        assert not (shop / "cm.yaml").stat().st_mode & 0o222
        assert not shop.stat().st_mode & 0o222


async def test_unused_copies_beyond_the_capacity_are_removed(
    storage: Storage, tmp_path: Path
) -> None:
    unpacked = UnpackedArtifacts(capacity=1)
    first, second = artifact(storage, tmp_path, "one"), artifact(storage, tmp_path, "two")
    async with unpacked.use(first["url"], first["digest"]) as older:
        async with unpacked.use(second["url"], second["digest"]) as newer:
            pass
        # ``first`` is in use: it stays; ``second`` is the one unused copy the capacity keeps.
        assert older.is_dir() and newer.is_dir()
    # Both unused now: the least recently used goes.
    assert not older.exists() and newer.is_dir()
    async with unpacked.use(second["url"], second["digest"]):
        pass
    assert unpacked.unpacks == 2


async def test_a_digest_without_an_algorithm_is_refused_and_removes_no_other_copy(
    storage: Storage, tmp_path: Path
) -> None:
    unpacked = UnpackedArtifacts()
    good = artifact(storage, tmp_path, "good")
    async with unpacked.use(good["url"], good["digest"]) as root:
        pass
    with pytest.raises(ArtifactFetchError, match="unsupported artifact digest 'nocolon'"):
        async with unpacked.use(good["url"], "nocolon"):
            pass
    assert (root / "name.txt").read_text() == "good"

"""fetch_artifact over a real loopback artifact server: digests, bounds, nothing left behind."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.unit.artifacts._archives import random_archive, zeros_bomb
from tide.artifacts import (
    ArtifactServer,
    ArtifactTooLarge,
    DigestMismatch,
    Storage,
    fetch_artifact,
)

pytestmark = pytest.mark.unit


@pytest_asyncio.fixture(loop_scope="session")
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """Artifact storage served over HTTP on a loopback port, as the source controller does."""
    store = Storage(tmp_path / "storage", base_url="")
    server = ArtifactServer(store, host="127.0.0.1", port=0)
    await server.start()
    store.base_url = f"http://127.0.0.1:{server.port}"
    yield store
    await server.stop()


def leftovers(folder: Path) -> list[str]:
    """Files a fetch left in the folder it unpacks beside (its download, if any)."""
    return sorted(p.name for p in folder.iterdir())


async def test_a_zip_bomb_is_refused_with_its_bound_and_leaves_nothing(
    storage: Storage, tmp_path: Path
) -> None:
    bomb = zeros_bomb(tmp_path / "bomb.tar.gz", size=256 << 20)
    artifact = storage.store("GitRepository", "ns", "bomb", bomb, revision="main@sha1:1")
    assert artifact.size < 1 << 20  # a quarter of a gigabyte in well under a megabyte
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ArtifactTooLarge) as raised:
        await fetch_artifact(
            artifact.url, artifact.digest, work / "out", max_unpacked_size=16 << 20
        )
    assert str(raised.value) == (
        f"artifact from {artifact.url} unpacks to more than 16777216 bytes (16 MiB)"
    )
    assert leftovers(work) == []


async def test_the_default_bound_lets_an_ordinary_artifact_through(
    storage: Storage, tmp_path: Path
) -> None:
    source = zeros_bomb(tmp_path / "a.tar.gz", size=4 << 20)
    artifact = storage.store("GitRepository", "ns", "ok", source, revision="main@sha1:2")
    work = tmp_path / "work"
    await fetch_artifact(artifact.url, artifact.digest, work / "out")
    assert (work / "out" / "app.yaml").read_text() == "kind: ConfigMap\n"
    assert (work / "out" / "zeros.bin").stat().st_size == 4 << 20
    assert leftovers(work) == ["out"]


async def test_a_digest_mismatch_fails_clearly_and_unpacks_nothing(
    storage: Storage, tmp_path: Path
) -> None:
    source = zeros_bomb(tmp_path / "a.tar.gz", size=1024)
    artifact = storage.store("GitRepository", "ns", "app", source, revision="main@sha1:3")
    wrong = "sha256:" + "0" * 64
    work = tmp_path / "work"
    with pytest.raises(DigestMismatch, match=f"has digest {artifact.digest}, expected {wrong}"):
        await fetch_artifact(artifact.url, wrong, work / "out", retries=1)
    assert leftovers(work) == []


async def test_a_download_larger_than_the_bound_stops_early(
    storage: Storage, tmp_path: Path
) -> None:
    source = random_archive(tmp_path / "r.tar.gz", size=2 << 20)
    artifact = storage.store("GitRepository", "ns", "big", source, revision="main@sha1:4")
    work = tmp_path / "work"
    with pytest.raises(ArtifactTooLarge, match="is larger than 1048576 bytes"):
        await fetch_artifact(artifact.url, artifact.digest, work / "out", max_unpacked_size=1 << 20)
    assert leftovers(work) == []


async def test_the_download_is_streamed_never_held_in_memory_whole(
    storage: Storage, tmp_path: Path
) -> None:
    size = 24 << 20
    source = random_archive(tmp_path / "r.tar.gz", size=size)
    artifact = storage.store("GitRepository", "ns", "stream", source, revision="main@sha1:5")
    assert artifact.size > size  # random bytes do not compress
    tracemalloc.start()
    try:
        await fetch_artifact(artifact.url, artifact.digest, tmp_path / "work" / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "work" / "out" / "random.bin").stat().st_size == size
    # Allocation peak, not time: reading the body whole would allocate at least its 24 MiB.
    assert peak < 4 << 20, f"peak {peak} bytes traced while fetching {artifact.size} bytes"

"""Storage: Flux's layout, content-addressed names, retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tide.artifacts import Storage, sha256_file

pytestmark = pytest.mark.unit


def archive(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"src-{len(list(tmp_path.iterdir()))}.tar.gz"
    path.write_bytes(content)
    return path


def test_artifact_is_laid_out_and_described_like_flux(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://source-controller.flux-system.svc./")
    source = archive(tmp_path, b"content")
    artifact = storage.store("GitRepository", "flux-system", "app", source, revision="main@sha1:1")
    digest = sha256_file(source)
    assert artifact.path == f"gitrepository/flux-system/app/{digest[7:]}.tar.gz"
    assert artifact.url == f"http://source-controller.flux-system.svc./{artifact.path}"
    assert artifact.digest == digest and artifact.size == 7
    status = artifact.to_status()
    assert set(status) == {"path", "url", "revision", "digest", "lastUpdateTime", "size"}
    assert storage.exists(status)


def test_same_content_for_many_objects_is_one_inode(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x")
    source = archive(tmp_path, b"shared")
    first = storage.store("GitRepository", "ns", "a", source, revision="r")
    second = storage.store("GitRepository", "ns", "b", source, revision="r")
    assert (
        os.stat(storage.local_path(first.path)).st_ino
        == os.stat(storage.local_path(second.path)).st_ino
    )


def test_garbage_collection_keeps_the_newest_and_the_current(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x", retention=2)
    stored = []
    for index in range(4):
        stored.append(
            storage.store(
                "GitRepository",
                "ns",
                "a",
                archive(tmp_path, f"v{index}".encode()),
                revision=str(index),
            )
        )
        time.sleep(0.02)
    removed = storage.collect_garbage("GitRepository", "ns", "a", current=stored[0].path)
    assert removed == 2
    remaining = {p.name for p in storage.folder("GitRepository", "ns", "a").iterdir()}
    assert remaining == {Path(stored[0].path).name, Path(stored[3].path).name}


def test_remove_all_deletes_the_objects_folder(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x")
    artifact = storage.store("GitRepository", "ns", "a", archive(tmp_path, b"x"), revision="r")
    storage.remove_all("GitRepository", "ns", "a")
    assert not storage.exists(artifact.to_status())


def test_a_fixed_name_reused_for_new_content_is_replaced(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x")
    first = storage.store(
        "HelmChart",
        "ns",
        "c",
        archive(tmp_path, b"v1"),
        revision="1.0.0",
        filename="demo-1.0.0.tgz",
    )
    second = storage.store(
        "HelmChart",
        "ns",
        "c",
        archive(tmp_path, b"v2"),
        revision="1.0.0",
        filename="demo-1.0.0.tgz",
    )
    assert first.path == second.path == "helmchart/ns/c/demo-1.0.0.tgz"
    assert first.digest != second.digest
    assert storage.local_path(second.path).read_bytes() == b"v2"


def test_digest_placeholder_names_files_by_content(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x")
    source = archive(tmp_path, b"index")
    artifact = storage.store(
        "HelmRepository", "ns", "r", source, revision="r", filename="index-{digest}.yaml"
    )
    assert artifact.path == f"helmrepository/ns/r/index-{sha256_file(source)[7:]}.yaml"

"""Storage: Flux's layout, content-addressed names, retention, and refused writes in words."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from pathlib import Path

import pytest

from tide.artifacts import (
    Storage,
    StorageError,
    describe_write_error,
    is_write_error,
    sha256_file,
)

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


@pytest.mark.parametrize(
    ("code", "filename", "sentence"),
    [
        (errno.EROFS, "/data/artifacts/x", "storage path /data is read-only"),
        (errno.ENOSPC, None, "no space left on device under /data"),
        (errno.EDQUOT, None, "disk quota exceeded under /data"),
        (errno.EACCES, "/data/artifacts/x", "permission denied writing /data/artifacts/x"),
        (errno.EPERM, "/data/artifacts/x", "permission denied writing /data/artifacts/x"),
        (
            errno.ENOTDIR,
            "/data/artifacts/x",
            "cannot create /data/artifacts/x: a file stands where a folder must be",
        ),
    ],
    ids=["read-only", "full", "quota", "denied", "not-permitted", "file-in-the-way"],
)
def test_write_errors_read_as_sentences(code: int, filename: str | None, sentence: str) -> None:
    error = OSError(code, os.strerror(code), filename)
    assert is_write_error(error)
    assert describe_write_error(error, storage_path=Path("/data")) == sentence


def test_a_missing_file_is_not_a_write_error() -> None:
    assert not is_write_error(FileNotFoundError(errno.ENOENT, "gone", "/x"))
    assert not is_write_error(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))


def test_a_file_where_the_objects_folder_must_be_fails_the_store_plainly(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x", storage_path=tmp_path)
    (tmp_path / "store" / "gitrepository").write_text("not a folder")
    with pytest.raises(StorageError) as raised:
        storage.store("GitRepository", "ns", "a", archive(tmp_path, b"x"), revision="main@sha1:1")
    message = str(raised.value)
    assert message.startswith("failed to store artifact for revision 'main@sha1:1': cannot create ")
    assert message.endswith("a file stands where a folder must be")
    assert "Errno" not in message


def test_an_immutable_folder_fails_the_store_even_for_root(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "store", base_url="http://x", storage_path=tmp_path)
    folder = storage.folder("GitRepository", "ns", "a")
    folder.mkdir(parents=True)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this file system")
    try:
        with pytest.raises(StorageError, match=r"permission denied writing .*gitrepository/ns/a"):
            storage.store("GitRepository", "ns", "a", archive(tmp_path, b"x"), revision="r")
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_storage_that_cannot_be_created_says_why(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a folder")
    with pytest.raises(StorageError) as raised:
        Storage(
            tmp_path / "data" / "artifacts", base_url="http://x", storage_path=tmp_path / "data"
        )
    assert str(raised.value).startswith("cannot create the artifact storage: cannot create ")
    assert "Errno" not in str(raised.value)

"""Archives: Flux's exclusions, reproducible bytes, and extraction that cannot escape."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import tarfile
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from tests.unit.artifacts._archives import many_files, zeros_bomb
from tide.artifacts import ArchiveError, ArchiveTooLarge, build_archive, extract_archive, load_rules

pytestmark = pytest.mark.unit


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def test_default_exclusions_leave_out_vcs_ci_and_binary_files(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {
        "app.yaml": "a", ".git/config": "x", ".gitignore": "x", ".github/ci.yml": "x",
        "logo.png": "x", "bundle.tar.gz": "x", "sub/.sops.yaml": "x", "sub/keep.yaml": "k",
    })  # fmt: skip
    build_archive(root, tmp_path / "a.tar.gz", load_rules(root))
    assert names(tmp_path / "a.tar.gz") == ["app.yaml", "sub/keep.yaml"]


def test_sourceignore_is_scoped_to_its_folder_and_can_reinclude(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {
        ".sourceignore": "!logo.png\n",
        "logo.png": "x",
        "docs/.sourceignore": "*.txt\n",
        "docs/a.txt": "x", "docs/deep/b.txt": "x", "other/c.txt": "kept",
    })  # fmt: skip
    build_archive(root, tmp_path / "a.tar.gz", load_rules(root))
    assert names(tmp_path / "a.tar.gz") == [
        ".sourceignore",
        "docs/.sourceignore",
        "logo.png",
        "other/c.txt",
    ]


def test_spec_ignore_is_applied_last(tmp_path: Path) -> None:
    root = tree(
        tmp_path / "src", {".sourceignore": "deploy/\n", "deploy/a.yaml": "a", "x.yaml": "x"}
    )
    rules = load_rules(root, spec_ignore="/*\n!/deploy\n")
    build_archive(root, tmp_path / "a.tar.gz", rules)
    assert names(tmp_path / "a.tar.gz") == ["deploy/a.yaml"]


def test_same_files_give_the_same_bytes_whatever_their_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"b.yaml": "b", "a/c.yaml": "c"}
    first = tree(tmp_path / "one", files)
    second = tree(tmp_path / "two", files)
    now = time.time()
    os.utime(second / "b.yaml", (now - 86400, now - 86400))
    build_archive(first, tmp_path / "1.tar.gz", load_rules(first))
    # The second build happens "an hour later" (gzip and tar would stamp the clock's time).
    monkeypatch.setattr(time, "time", lambda: now + 3600)
    build_archive(second, tmp_path / "2.tar.gz", load_rules(second))
    digest = [hashlib.sha256((tmp_path / f"{n}.tar.gz").read_bytes()).hexdigest() for n in (1, 2)]
    assert digest[0] == digest[1]


def test_symlinks_are_left_out(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"a.yaml": "a"})
    (root / "link.yaml").symlink_to("/etc/passwd")
    build_archive(root, tmp_path / "a.tar.gz", load_rules(root))
    assert names(tmp_path / "a.tar.gz") == ["a.yaml"]


def test_extract_round_trips(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"a/b.yaml": "hello"})
    build_archive(root, tmp_path / "a.tar.gz", load_rules(root))
    extract_archive((tmp_path / "a.tar.gz").read_bytes(), tmp_path / "out")
    assert (tmp_path / "out/a/b.yaml").read_text() == "hello"


def malicious(name: str, *, link: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        if link:
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc"
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (malicious("../evil.yaml"), "escapes"),
        (malicious("/etc/evil.yaml"), "escapes"),
        (malicious("etc", link=True), "not a file or folder"),
        (b"not a tarball", "not a valid tar.gz"),
    ],
    ids=["parent", "absolute", "symlink", "garbage"],
)
def test_hostile_archives_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        extract_archive(data, tmp_path / "out")
    assert not (tmp_path / "evil.yaml").exists()


def test_an_archive_unpacking_past_the_size_bound_is_refused_and_removed(
    tmp_path: Path,
) -> None:
    bomb = zeros_bomb(tmp_path / "bomb.tar.gz", size=64 << 20)
    assert bomb.stat().st_size < 1 << 20  # 64 MiB of zeros in well under a megabyte
    with pytest.raises(ArchiveTooLarge, match=r"unpacks to more than 8388608 bytes \(8 MiB\)"):
        extract_archive(bomb, tmp_path / "out", max_size=8 << 20)
    assert not (tmp_path / "out").exists()  # app.yaml was unpacked first, and removed again


def test_an_archive_within_the_bound_unpacks_from_a_file(tmp_path: Path) -> None:
    bomb = zeros_bomb(tmp_path / "bomb.tar.gz", size=1 << 20)
    extract_archive(bomb, tmp_path / "out", max_size=2 << 20)
    assert (tmp_path / "out" / "zeros.bin").stat().st_size == 1 << 20


def test_too_many_entries_are_refused_and_an_existing_folder_is_emptied(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ArchiveTooLarge, match="holds more than 10 entries"):
        extract_archive(many_files(tmp_path / "many.tar.gz", 20), out, max_entries=10)
    assert out.is_dir() and not any(out.iterdir())


def test_a_folder_with_content_is_not_unpacked_into(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(ArchiveError, match="not empty"):
        extract_archive(many_files(tmp_path / "many.tar.gz", 1), out)
    assert (out / "mine.txt").read_text() == "keep"


def test_a_huge_extended_header_is_refused_before_it_is_read_into_memory(
    tmp_path: Path,
) -> None:
    # A pax header claiming 256 MiB gzips to a few hundred kilobytes; tarfile would hold it
    # whole in memory before the entry it describes ever shows up.
    claimed = 256 << 20
    header = tarfile.TarInfo("x/PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = claimed
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb") as stream:
        stream.write(header.tobuf(format=tarfile.USTAR_FORMAT))
        for _ in range(claimed >> 20):
            stream.write(bytes(1 << 20))
    bomb = packed.getvalue()
    assert len(bomb) < claimed // 500

    tracemalloc.start()
    try:
        with pytest.raises(ArchiveTooLarge, match="extended header"):
            extract_archive(bomb, tmp_path / "out", max_size=1 << 30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Bounded by one read's worth of decompressed zeros, not by what the header claims.
    assert peak < 64 << 20, f"peak {peak} bytes while refusing"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_archive_whose_gzip_header_has_an_extra_field_unpacks(tmp_path: Path) -> None:
    # Helm writes such a header into every chart it packages; a chart artifact must unpack.
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = b"name: podinfo\n"
        info = tarfile.TarInfo("podinfo/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    payload = raw.getvalue()
    extra = b"+aGVsbQ=="
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(payload) + deflate.flush()
    header = b"\x1f\x8b\x08\x04" + b"\x00" * 4 + b"\x00\xff" + struct.pack("<H", len(extra))
    trailer = struct.pack("<II", zlib.crc32(payload), len(payload))

    extract_archive(header + extra + body + trailer, tmp_path / "out")

    assert (tmp_path / "out" / "podinfo" / "Chart.yaml").read_bytes() == b"name: podinfo\n"

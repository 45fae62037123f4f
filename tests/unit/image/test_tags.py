"""The tag store: streamed writes, order-free revisions, nothing rewritten for the same tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.image.tags import NoTags, Scanned, TagStore

pytestmark = pytest.mark.unit


def store_tags(store: TagStore, pages: list[list[str]], previous: str | None = None) -> Scanned:
    writer = store.writer("ns", "app")
    for page in pages:
        writer.add(page)
    return writer.commit(previous)


def test_tags_are_stored_one_per_line_and_read_back(tmp_path: Path) -> None:
    store = TagStore(tmp_path)
    scanned = store_tags(store, [["a", "b"], ["c"]])
    assert scanned.count == 3 and scanned.changed
    assert store.path("ns", "app") == tmp_path / "imagerepository/ns/app/tags.txt"
    assert list(store.read("ns", "app")) == ["a", "b", "c"]


def test_latest_tags_are_the_ten_highest_in_descending_text_order(tmp_path: Path) -> None:
    tags = [f"1.0.{i}" for i in range(20)] + ["latest"]
    scanned = store_tags(TagStore(tmp_path), [tags])
    assert scanned.latest == sorted(tags, reverse=True)[:10]
    assert scanned.latest[0] == "latest"


def test_the_revision_ignores_order_and_pages(tmp_path: Path) -> None:
    first = store_tags(TagStore(tmp_path / "a"), [["x", "y", "z"]])
    second = store_tags(TagStore(tmp_path / "b"), [["z"], ["y", "x"]])
    third = store_tags(TagStore(tmp_path / "c"), [["x", "y"]])
    assert first.revision == second.revision != third.revision


def test_the_same_tags_leave_the_stored_file_untouched(tmp_path: Path) -> None:
    store = TagStore(tmp_path)
    first = store_tags(store, [["a", "b"]])
    before = store.path("ns", "app").stat()
    again = store_tags(store, [["b", "a"]], previous=first.revision)
    after = store.path("ns", "app").stat()
    assert not again.changed
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert list(store.path("ns", "app").parent.iterdir()) == [store.path("ns", "app")]


def test_a_discarded_scan_keeps_the_stored_tags(tmp_path: Path) -> None:
    store = TagStore(tmp_path)
    store_tags(store, [["a"]])
    writer = store.writer("ns", "app")
    writer.add(["b"])
    writer.discard()
    assert list(store.read("ns", "app")) == ["a"]


def test_nothing_stored_is_no_tags(tmp_path: Path) -> None:
    with pytest.raises(NoTags, match="no tags stored for ImageRepository 'ns/app'"):
        TagStore(tmp_path).read("ns", "app")

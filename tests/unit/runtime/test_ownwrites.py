"""A reconcile waits for the cache to show its object's last own write."""

from __future__ import annotations

import pytest

from tide.runtime import ownwrites
from tide.runtime.ownwrites import OwnWrites

pytestmark = pytest.mark.unit


def _at(version: str) -> dict:
    return {"metadata": {"name": "apps", "resourceVersion": version}}


def test_a_cache_copy_older_than_the_last_own_write_is_behind() -> None:
    writes = OwnWrites()
    writes.left("apps", "10", _at("12"))
    assert writes.behind("apps", _at("10"))
    assert not writes.behind("apps", _at("12"))
    assert not writes.behind("apps", _at("10")), "caught up once: forgotten"


def test_a_reconcile_that_wrote_nothing_leaves_nothing_to_wait_for() -> None:
    writes = OwnWrites()
    writes.left("apps", "10", _at("10"))
    assert not writes.behind("apps", _at("9"))


def test_versions_that_are_not_numbers_never_hold_a_reconcile() -> None:
    writes = OwnWrites()
    writes.left("apps", "10", _at("12"))
    assert not writes.behind("apps", _at("opaque"))


def test_a_cache_that_never_catches_up_holds_a_reconcile_only_for_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes = OwnWrites()
    writes.left("apps", "10", _at("12"))
    monkeypatch.setattr(ownwrites, "_PATIENCE", -1.0)
    assert not writes.behind("apps", _at("10"))

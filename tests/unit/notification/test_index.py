"""WebhookIndex: the path → Receiver map follows watch events."""

from __future__ import annotations

from typing import Any

import pytest

from tide.notification.index import WebhookIndex

pytestmark = pytest.mark.unit


def receiver(name: str, path: str | None, namespace: str = "apps") -> dict[str, Any]:
    status = {"webhookPath": path} if path else {}
    return {"metadata": {"name": name, "namespace": namespace}, "status": status}


def test_a_published_path_finds_its_receiver() -> None:
    index = WebhookIndex()
    index.handle("ADDED", None, receiver("hook", "/hook/a"))

    assert index.lookup("/hook/a") == ("apps", "hook")
    assert index.lookup("/hook/b") is None


def test_a_new_path_replaces_the_old_one() -> None:
    index = WebhookIndex()
    index.handle("ADDED", None, receiver("hook", "/hook/a"))
    index.handle("MODIFIED", receiver("hook", "/hook/a"), receiver("hook", "/hook/b"))

    assert index.lookup("/hook/a") is None
    assert index.lookup("/hook/b") == ("apps", "hook")
    assert len(index) == 1


def test_a_withdrawn_path_and_a_deleted_receiver_are_forgotten() -> None:
    index = WebhookIndex()
    index.handle("ADDED", None, receiver("one", "/hook/a"))
    index.handle("ADDED", None, receiver("two", "/hook/b"))
    index.handle("MODIFIED", receiver("one", "/hook/a"), receiver("one", None))
    index.handle("DELETED", receiver("two", "/hook/b"), None)

    assert len(index) == 0

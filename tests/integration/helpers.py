"""Helpers shared by integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tide.testing import violations


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def assert_kstatus(obj: dict[str, Any]) -> None:
    """Fail when ``obj``'s status breaks a kstatus rule."""
    problems = violations(obj)
    assert not problems, problems


def reconcile_count(kind: str, namespace: str, name: str) -> float:
    """Return how many reconciles of one object this process ran (from the duration histogram)."""
    labels = {"kind": kind, "name": name, "namespace": namespace}
    return REGISTRY.get_sample_value("gotk_reconcile_duration_seconds_count", labels) or 0.0

"""Ask again while the API server is briefly unavailable.

A CRD that is Established may still answer 503 ("storage is (re)initializing") for a second
or two after it was created or replaced, as does an API server under load (429). ``kubectl``
would fail; ``tide get`` waits a little, ``tide install`` waits it out so the kinds serve when
it returns, and ``tide uninstall`` so it can run right after an install.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tide.kube.errors import KubeUnavailable

__all__ = ["served"]

T = TypeVar("T")

_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)
"""Seconds between attempts while the API server answers 503 or 429."""


async def served(call: Callable[[], Awaitable[T]]) -> T:
    """Return ``call()``, asked again (a few times, within about 8 s) while unavailable."""
    for pause in _PAUSES:
        try:
            return await call()
        except KubeUnavailable:
            await asyncio.sleep(pause)
    return await call()

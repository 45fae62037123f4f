"""Compile the Go programs Tide is made with, from Go modules, into Tide's cache folder.

Tide ships no prebuilt Go binaries: the kustomize build server (product) and the control-plane
binaries its tests run (``tide.testing.binaries``) are compiled with the machine's Go toolchain,
once, and cached under ``$TIDE_CACHE_DIR`` (default ``~/.cache/tide``) in folders named after
what they are built from. This module holds what both need; it imports nothing of Tide's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["GoBuildError", "GoMissingError", "cache_root", "find_go", "go_env", "run_go"]


class GoMissingError(RuntimeError):
    """The Go toolchain needed to build a binary is not on PATH."""


class GoBuildError(RuntimeError):
    """A ``go`` command that builds a binary failed; the message carries Go's last lines."""


def cache_root() -> Path:
    """Return Tide's cache folder (``$TIDE_CACHE_DIR``, else ``~/.cache/tide``)."""
    configured = os.environ.get("TIDE_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "tide"


def find_go(what: str) -> str:
    """Return the ``go`` program's path.

    Raises:
        GoMissingError: it is not on PATH; the message says what it was needed for.
    """
    go = shutil.which("go")
    if go is None:
        raise GoMissingError(
            f"tide: the Go toolchain (go >= 1.26) is needed to build {what} and was not found "
            "on PATH"
        )
    return go


def go_env() -> dict[str, str]:
    """Return the environment ``go`` builds run with: this one, made reproducible and offline-safe.

    ``GOTOOLCHAIN=local`` fails fast instead of fetching another toolchain; ``GOWORK=off``
    ignores any ``go.work`` above a module; binaries are static, without cgo, as upstream's.
    """
    env = dict(os.environ)
    env.update(GOTOOLCHAIN="local", GOWORK="off", CGO_ENABLED="0", GOFLAGS="-buildvcs=false")
    return env


def run_go(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run one ``go`` command in ``cwd`` with :func:`go_env` (plus ``env``).

    Raises:
        GoBuildError: it exited non-zero; the message holds its last 30 lines of output.
    """
    completed = subprocess.run(
        command,
        cwd=cwd,
        env={**go_env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.strip().splitlines()[-30:])
        raise GoBuildError(f"`{' '.join(command)}` failed (exit {completed.returncode}):\n{tail}")

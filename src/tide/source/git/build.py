"""Build a GitRepository's archive from a checkout, its ignore rules and its includes, once.

Archives are cached by everything that shapes their content (checkout, ignore rules, included
artifacts and their paths), so a hundred objects on one commit share one archive; storage then
links that file under each object's own path.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.artifacts import build_archive, extract_archive, load_rules

__all__ = ["ArchiveCache", "IncludedArtifact"]


@dataclass(frozen=True)
class IncludedArtifact:
    """One ``spec.include`` entry, resolved to the archive bytes of the included repository."""

    name: str
    digest: str
    from_path: str
    to_path: str
    archive: bytes
    artifact: dict[str, Any]
    """The included repository's ``status.artifact``, reported in ``status.includedArtifacts``."""


class ArchiveCache:
    """Archives in ``folder``, keyed by content-shaping inputs."""

    def __init__(self, folder: Path, *, keep: int = 128) -> None:
        self.folder = folder
        self.keep = keep
        self.builds = 0
        """How many archives were actually built (not served from the cache)."""
        folder.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, checkout: Path, *, ignore: str | None, includes: list[IncludedArtifact]
    ) -> Path:
        """Return the archive for ``checkout`` with ``ignore`` and ``includes`` applied."""
        shape = hashlib.sha256()
        shape.update(checkout.name.encode() + b"\0" + (ignore or "").encode() + b"\0")
        for item in includes:
            shape.update(f"{item.digest}\0{item.from_path}\0{item.to_path}\0".encode())
        key = shape.hexdigest()[:32]
        target = self.folder / f"{key}.tar.gz"
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not target.exists():
                await asyncio.to_thread(_build, checkout, target, ignore, includes)
                self.builds += 1
                self._evict()
        return target

    def _evict(self) -> None:
        archives = sorted(self.folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        for stale in archives[: max(0, len(archives) - self.keep)]:
            stale.unlink(missing_ok=True)


def _build(
    checkout: Path, target: Path, ignore: str | None, includes: list[IncludedArtifact]
) -> None:
    partial = target.with_suffix(".partial")
    if not includes:
        build_archive(checkout, partial, load_rules(checkout, spec_ignore=ignore))
        partial.replace(target)
        return
    with tempfile.TemporaryDirectory(prefix="tide-include-") as scratch:
        tree = Path(scratch) / "tree"
        shutil.copytree(checkout, tree, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        for item in includes:
            unpacked = Path(scratch) / f"include-{item.name}"
            extract_archive(item.archive, unpacked)
            source = (unpacked / item.from_path.strip("/")).resolve()
            if not source.is_relative_to(unpacked.resolve()) or not source.exists():
                raise FileNotFoundError(f"path '{item.from_path}' not found in '{item.name}'")
            destination = (tree / item.to_path.strip("/")).resolve()
            if not destination.is_relative_to(tree.resolve()):
                raise FileNotFoundError(f"toPath '{item.to_path}' escapes the repository")
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(source, destination, dirs_exist_ok=True)
        build_archive(tree, partial, load_rules(tree, spec_ignore=ignore))
    partial.replace(target)

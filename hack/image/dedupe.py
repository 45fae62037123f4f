"""Turn identical copies of a large file in one folder into symlinks to one of them.

Wheels cannot hold symlinks, so a wheel that ships a shared library under its versioned names
(helm-python-sdk: ``libhelm_c.so``, ``.so.0``, ``.so.0.2.2``, 85 MB each) unpacks three full
copies. Linking them saves that space in the image; every name still opens the same library.

Usage: python3 dedupe.py FOLDER
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import defaultdict
from pathlib import Path

_LARGE = 1 << 20
"""Only files this big are worth a look."""


def _digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def dedupe(root: Path) -> int:
    """Link duplicates under ``root``; return the bytes saved."""
    groups: dict[tuple[Path, int, str], list[Path]] = defaultdict(list)
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size >= _LARGE:
            groups[(path.parent, path.stat().st_size, _digest(path))].append(path)
    saved = 0
    for (_, size, _), paths in groups.items():
        # Keep the longest name (the fully versioned one, by the convention shared libraries use).
        keep, *others = sorted(paths, key=lambda p: (-len(p.name), p.name))
        for other in others:
            other.unlink()
            os.symlink(keep.name, other)
            saved += size
    return saved


if __name__ == "__main__":
    print(f"dedupe: {dedupe(Path(sys.argv[1])) / 1e6:.0f} MB saved by symlinking copies")

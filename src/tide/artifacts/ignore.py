"""Decide which files of a source tree go into an artifact, with Flux's exclusion rules.

Patterns use the ``.gitignore`` format and are applied in Flux's order, the last match winning:
the default exclusions (VCS files, binaries and archives, CI configs), then every ``.sourceignore``
file in the tree (scoped to its folder), then ``spec.ignore``. So a ``.sourceignore`` or
``spec.ignore`` can re-include a default exclusion with ``!pattern``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pathspec import GitIgnoreSpec

__all__ = ["DEFAULT_EXCLUSIONS", "IGNORE_FILE", "IgnoreRules", "load_rules"]

IGNORE_FILE = ".sourceignore"
"""File name whose patterns exclude paths below the folder that holds it."""

DEFAULT_EXCLUSIONS: tuple[str, ...] = (
    # Version control files.
    ".git/", ".gitignore", ".gitmodules", ".gitattributes",
    # Binaries and archives that have no place in manifests.
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
    # CI configuration.
    ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
    "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
    # Tool configuration.
    "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
)  # fmt: skip
"""Flux's default exclusions, in Flux's order."""


def _patterns(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _scoped(pattern: str, folder: str) -> str:
    """Rewrite a pattern read from ``folder/.sourceignore`` so it matches from the tree's root."""
    if not folder:
        return pattern
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    anchored = "/" in body.rstrip("/")
    scoped = f"{folder}/{body.lstrip('/')}" if anchored else f"{folder}/**/{body}"
    return f"!{scoped}" if negate else scoped


class IgnoreRules:
    """A compiled set of exclusion patterns for one tree."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._spec = GitIgnoreSpec.from_lines(self.patterns)

    def excludes(self, relative: str, *, is_dir: bool = False) -> bool:
        """Tell whether the path (relative to the tree's root, ``/``-separated) is left out."""
        return self._spec.match_file(f"{relative}/" if is_dir else relative)


def load_rules(root: Path, *, spec_ignore: str | None = None) -> IgnoreRules:
    """Collect the defaults, every ``.sourceignore`` under ``root`` and ``spec_ignore``."""
    patterns = list(DEFAULT_EXCLUSIONS)
    for ignore_file in sorted(root.rglob(IGNORE_FILE)):
        if ".git" in ignore_file.relative_to(root).parts:
            continue
        folder = ignore_file.parent.relative_to(root).as_posix()
        folder = "" if folder == "." else folder
        text = ignore_file.read_text(errors="replace")
        patterns += [_scoped(p, folder) for p in _patterns(text)]
    if spec_ignore:
        patterns += _patterns(spec_ignore)
    return IgnoreRules(patterns)

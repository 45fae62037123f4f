"""Apply the selected ImagePolicies to every marked YAML file under ``spec.update.path``.

Which markers are applied, and which are reported: a marker naming a selected policy of the
automation's namespace takes that policy's ``latestRef``; one naming a policy of that namespace
that does not exist, or that has no ``latestRef`` yet (or no digest, for ``:digest``), is skipped
and reported, so a typo does not go unnoticed. Markers naming a policy the selector leaves out, or
another namespace, are left alone silently: they belong to another automation, as in Flux (which
only ever sees the policies of its own namespace).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tide.image.automation import setters

__all__ = ["PolicyState", "UpdateResult", "apply_policies"]

log = logging.getLogger(__name__)

_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PolicyState:
    """What the automation knows of the ImagePolicies in its namespace."""

    namespace: str
    latest: Mapping[str, Mapping[str, str | None]]
    """Selected policies with a ``latestRef``, by name."""
    selected: Set[str]
    """Every selected policy's name, with or without a ``latestRef``."""
    existing: Set[str]
    """Every policy's name in the namespace, selected or not."""


@dataclass
class UpdateResult:
    """What the setters changed, file by file, and which markers were skipped."""

    files: dict[str, list[tuple[setters.ObjectId, setters.Change]]] = field(default_factory=dict)
    """Changes by file path relative to the update path (Flux's ``FileChanges`` keys)."""
    repo_paths: list[str] = field(default_factory=list)
    """The changed files' paths relative to the repository root, for ``git add``."""
    skipped: list[str] = field(default_factory=list)
    """One line per skipped marker: which file, line and policy, and why."""


def apply_policies(root: Path, path: str, policies: PolicyState) -> UpdateResult:
    """Rewrite marked scalars in the YAML files under ``root / path`` in place.

    Files that are not UTF-8 YAML are left alone (a repository holds other things too).

    Raises:
        ValueError: ``path`` leaves the repository.
        FileNotFoundError: ``path`` is not a folder of the repository.
    """
    base = (
        (root / path.strip("/")).resolve() if path.strip("/") not in ("", ".") else root.resolve()
    )
    if not base.is_relative_to(root.resolve()):
        raise ValueError(f"spec.update.path '{path}' leaves the repository")
    if not base.is_dir():
        raise FileNotFoundError(f"spec.update.path '{path}' is not a folder in the repository")
    result = UpdateResult()
    for file in _yaml_files(base):
        _update_file(file, base, root.resolve(), policies, result)
    return result


def _yaml_files(base: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            candidate = Path(folder) / name
            if name.endswith(_SUFFIXES) and not candidate.is_symlink():
                found.append(candidate)
    return found


def _update_file(
    file: Path, base: Path, root: Path, policies: PolicyState, result: UpdateResult
) -> None:
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8")
        markers = setters.find_markers(text)
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        log.debug("not updating %s: %s", file, error)
        return
    relative = file.relative_to(base).as_posix()
    values: dict[int, str] = {}
    for marker in markers:
        value, why = _value(marker, policies)
        if why:
            result.skipped.append(f"{relative}:{marker.line}: {why}")
        if value is not None:
            values[marker.start] = value
    rewritten = setters.rewrite(text, markers, values)
    if not rewritten.changes:
        return
    file.write_bytes(rewritten.text.encode("utf-8"))
    result.files[relative] = rewritten.changes
    result.repo_paths.append(file.relative_to(root).as_posix())


def _value(marker: setters.Marker, policies: PolicyState) -> tuple[str | None, str | None]:
    """Return (new value, why skipped); both None for a marker that is another automation's."""
    if marker.namespace != policies.namespace:
        return None, None
    name = f"'{marker.namespace}/{marker.policy}'"
    if marker.policy not in policies.existing:
        return None, f"ImagePolicy {name} not found"
    if marker.policy not in policies.selected:
        return None, None
    ref = policies.latest.get(marker.policy)
    if ref is None:
        return None, f"ImagePolicy {name} has no latestRef yet"
    value = setters.value_for(ref, marker.field)
    if value is None:
        return None, f"ImagePolicy {name} reflects no {marker.field}"
    return value, None

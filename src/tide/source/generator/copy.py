"""Apply an artifact's copy operations: files from unpacked sources into a staging folder.

The semantics are ``cp``'s, as Flux documents them for ArtifactGenerator:

- ``@src/config.yaml`` → ``@artifact/apps/app.yaml`` writes that file; → ``@artifact/apps/``
  (trailing ``/``, or an existing folder) writes ``apps/config.yaml``.
- ``@src/configs/`` (a folder, no glob) → ``@artifact/apps/`` writes ``apps/configs/…``
  (``cp -r``); ``@src/`` copies the whole source into the destination.
- A glob copies every match below the glob's fixed folders: ``@src/configs/*.yaml`` →
  ``@artifact/apps/`` writes ``apps/<file>.yaml``; ``@src/configs/**`` → ``apps/…`` with the
  tree under ``configs/`` kept. ``*`` and ``?`` stay in one folder, ``**`` crosses folders, and a
  folder that matches is copied whole.
- ``exclude`` drops matched files whose path (from the source root, or from the copy's fixed
  folders) matches a pattern; a pattern without ``/`` also matches a bare file name at any
  depth, so ``*.md`` leaves out every Markdown file.
- Operations run in order and later ones overwrite earlier files, unless ``strategy: Merge``
  deep-merges a YAML file into the one already there (mappings merge, lists are replaced, as
  Helm merges values files), or ``strategy: Extract`` unpacks ``.tar.gz``/``.tgz`` matches into
  the destination folder (other glob matches are skipped).

Nothing here reads outside a source folder or writes outside the staging folder: ``..`` and
absolute paths are refused when the rule is parsed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tide import yamlio
from tide.api.generator import CopyOperation
from tide.artifacts import ArchiveError, extract_archive
from tide.source.generator._glob import GlobError, Pattern, has_magic, static_prefix
from tide.source.helm.values import ValuesFilesError, parse_values
from tide.yamlio import merge_maps

__all__ = ["CopyError", "CopyRule", "apply_rules", "parse_rule"]

_TARBALLS = (".tar.gz", ".tgz")


class CopyError(Exception):
    """A copy operation cannot be carried out; the message names the operation and the cause."""


@dataclass(frozen=True)
class CopyRule:
    """One parsed copy operation."""

    alias: str
    """Source alias (``from``'s ``@alias``)."""
    pattern: str
    """Path or glob inside the source, ``""`` for its root."""
    destination: str
    """Path inside the artifact, ``""`` for its root."""
    into_folder: bool
    """The destination names a folder (trailing ``/`` or the root)."""
    exclude: tuple[Pattern, ...]
    """Compiled ``exclude`` patterns."""
    strategy: str
    """``Overwrite``, ``Merge`` or ``Extract``."""
    text: str
    """``from → to`` as written, for messages."""


def _check_relative(path: str, field: str, text: str) -> None:
    if path.startswith("/") or ".." in PurePosixPath(path).parts:
        raise CopyError(f"{text}: {field} must stay inside its root, got '{path}'")


def parse_rule(operation: CopyOperation) -> CopyRule:
    """Split ``from``/``to`` into alias, pattern and destination; compile the patterns.

    Raises:
        CopyError: a malformed ``from``/``to``, a path escaping its root, or a bad glob.
    """
    source, target = operation.from_, operation.to
    text = f"'{source}' → '{target}'"
    alias, slash, pattern = source.removeprefix("@").partition("/")
    if not source.startswith("@") or not slash or not alias:
        raise CopyError(f"{text}: from must look like '@<alias>/<path or glob>'")
    if not target.startswith("@artifact/"):
        raise CopyError(f"{text}: to must start with '@artifact/'")
    destination = target.removeprefix("@artifact/")
    _check_relative(pattern, "from", text)
    _check_relative(destination, "to", text)
    try:
        excludes = tuple(Pattern.compile(p) for p in operation.exclude or ())
        if has_magic(pattern):
            Pattern.compile(pattern)
    except GlobError as error:
        raise CopyError(f"{text}: invalid glob: {error}") from None
    return CopyRule(
        alias=alias,
        pattern=pattern,
        destination=destination.strip("/"),
        into_folder=destination == "" or destination.endswith("/"),
        exclude=excludes,
        strategy=operation.strategy or "Overwrite",
        text=text,
    )


def apply_rules(rules: Sequence[CopyRule], sources: Mapping[str, Path], staging: Path) -> None:
    """Run ``rules`` in order from the unpacked ``sources`` (by alias) into ``staging``.

    Raises:
        CopyError: an unknown alias, a missing path, a glob matching nothing (or only excluded
            files), a YAML file that cannot be merged, or an archive that cannot be extracted.
    """
    staging.mkdir(parents=True, exist_ok=True)
    for rule in rules:
        root = sources.get(rule.alias)
        if root is None:
            raise CopyError(f"{rule.text}: no source with alias '{rule.alias}'")
        for source, target in _plan(rule, root, staging):
            _copy_one(rule, source, staging / target if target else staging)


def _plan(rule: CopyRule, root: Path, staging: Path) -> list[tuple[Path, str]]:
    """Return (source file, destination path in the artifact) pairs for one rule."""
    if has_magic(rule.pattern):
        return _plan_glob(rule, root)
    relative = rule.pattern.strip("/")
    path = root / relative if relative else root
    if not path.exists() or path.is_symlink():
        raise CopyError(f"{rule.text}: '{relative}' does not exist in source '{rule.alias}'")
    if path.is_dir():
        if rule.strategy == "Extract":
            raise CopyError(f"{rule.text}: the Extract strategy takes archives, not folders")
        base = (
            _join(rule.destination, PurePosixPath(relative).name) if relative else rule.destination
        )
        return [
            (file, _join(base, inner))
            for file, inner in _walk(path)
            if not _excluded(rule, _join(relative, inner), inner)
        ]
    if _excluded(rule, relative, PurePosixPath(relative).name):
        return []
    if rule.strategy == "Extract":
        if not relative.endswith(_TARBALLS):
            raise CopyError(f"{rule.text}: the Extract strategy takes .tar.gz or .tgz files")
        return [(path, rule.destination)]
    into = rule.into_folder or (staging / rule.destination).is_dir()
    name = PurePosixPath(relative).name
    return [(path, _join(rule.destination, name) if into else rule.destination)]


def _plan_glob(rule: CopyRule, root: Path) -> list[tuple[Path, str]]:
    pattern = Pattern.compile(rule.pattern)
    prefix = static_prefix(rule.pattern)
    start = root / prefix if prefix else root
    matched: dict[str, Path] = {}
    for entry, relative in _entries(start, prefix):
        if not pattern.matches(relative):
            continue
        if entry.is_dir():
            for file, inner in _walk(entry):
                matched.setdefault(_join(relative, inner), file)
        else:
            matched.setdefault(relative, entry)
    if not matched:
        raise CopyError(f"{rule.text}: no files match '{rule.pattern}' in source '{rule.alias}'")
    plan: list[tuple[Path, str]] = []
    for relative, file in sorted(matched.items()):
        inner = relative[len(prefix) + 1 :] if prefix else relative
        if _excluded(rule, relative, inner):
            continue
        if rule.strategy == "Extract":
            if relative.endswith(_TARBALLS):
                plan.append((file, rule.destination))
            continue
        plan.append((file, _join(rule.destination, inner)))
    if not plan:
        raise CopyError(
            f"{rule.text}: every file matching '{rule.pattern}' in source '{rule.alias}' "
            "was excluded"
        )
    return plan


def _copy_one(rule: CopyRule, source: Path, target: Path) -> None:
    if rule.strategy == "Extract":
        # Unpacked beside the target first, then merged in, so an extract may land in a folder
        # that earlier operations (or another archive) already filled, as a copy may.
        target.mkdir(parents=True, exist_ok=True)
        unpacked = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
        try:
            extract_archive(source, unpacked)
            shutil.copytree(unpacked, target, dirs_exist_ok=True)
        except ArchiveError as error:
            raise CopyError(f"{rule.text}: cannot extract '{source.name}': {error}") from None
        except (shutil.Error, IsADirectoryError, NotADirectoryError, FileExistsError) as error:
            raise CopyError(
                f"{rule.text}: '{source.name}' does not fit what the artifact already holds "
                f"({type(error).__name__})"
            ) from None
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
        return
    if target.is_dir():
        raise CopyError(f"{rule.text}: '{target.name}' is a folder in the artifact, not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if rule.strategy == "Merge" and target.is_file():
        _merge(rule, source, target)
        return
    shutil.copyfile(source, target)
    os.chmod(target, 0o755 if os.access(source, os.X_OK) else 0o644)


def _merge(rule: CopyRule, source: Path, target: Path) -> None:
    try:
        base = parse_values(target.read_bytes(), name=target.name)
        override = parse_values(source.read_bytes(), name=source.name)
    except ValuesFilesError as error:
        raise CopyError(f"{rule.text}: cannot merge: {error}") from None
    target.write_text(yamlio.dump(merge_maps(base, override)))


def _excluded(rule: CopyRule, from_root: str, from_base: str) -> bool:
    name = PurePosixPath(from_root).name
    for pattern in rule.exclude:
        if pattern.matches(from_root) or pattern.matches(from_base):
            return True
        if "/" not in pattern.text.strip("/") and pattern.matches(name):
            return True
        # A pattern naming a folder (``**/testdata``) leaves out everything below it.
        parents = PurePosixPath(from_root).parents
        if any(pattern.matches(str(p)) for p in parents if str(p) != "."):
            return True
    return False


def _entries(start: Path, prefix: str) -> Iterator[tuple[Path, str]]:
    """Yield every file and folder under ``start`` with its path from the source root."""
    if not start.is_dir():
        return
    for folder, dirs, files in os.walk(start):
        dirs.sort()
        base = Path(folder)
        inner = base.relative_to(start).as_posix()
        here = _join(prefix, "" if inner == "." else inner)
        for name in [*dirs, *sorted(files)]:
            entry = base / name
            if not entry.is_symlink():
                yield entry, _join(here, name)


def _walk(folder: Path) -> Iterator[tuple[Path, str]]:
    """Yield every regular file under ``folder`` with its path relative to it."""
    for entry, relative in _entries(folder, ""):
        if entry.is_file():
            yield entry, relative


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))

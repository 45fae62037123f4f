"""Follow what one build reads, from ``spec.path`` outwards, before kustomize reads it.

kubectl's kustomize has no filesystem jail like Flux's, and Flux builds with
``LoadRestrictionsNone`` (an overlay may load from sibling folders), so each local path the build
will read is checked to stay inside the artifact, and each remote reference is collected for
``--no-remote-bases``. Only what the build reaches is read: the kustomization in the built folder,
the folders it names (``resources``, ``bases``, ``components``, generator folders), theirs in
turn, and the files they name (patches, CRDs, generator inputs, plugin configs). A broken
overlay elsewhere in a monorepo is none of this build's business, and the walk costs what the
build costs, not what the repository weighs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tide.kustomize.paths import (
    KUSTOMIZATION_FILES,
    BuildError,
    find_kustomization,
    is_remote,
    redact,
)

__all__ = ["Reached", "Reference", "reach"]

_FOLDER_FIELDS = ("resources", "bases", "components")
"""Entries that may be a folder with its own kustomization (or a remote base)."""
_PLUGIN_FIELDS = ("generators", "transformers", "validators")
"""Entries that are plugin configs: a file, a folder, or inline YAML."""
_FILE_LISTS = ("crds", "configurations", "patchesStrategicMerge")
_PATH_OBJECTS = ("patches", "patchesJson6902", "replacements")
_GENERATOR_LISTS = ("configMapGenerator", "secretGenerator")
_CONFIG_PATH_KEYS = frozenset({"path", "files", "envs", "env"})
"""Keys whose strings a plugin config (``ConfigMapGenerator``, ``PatchTransformer``…) reads."""


@dataclass(frozen=True)
class Reference:
    """One path that a reached file names: where, under which field, and as written."""

    file: str
    """Artifact-relative file that names it."""
    field: str
    """The kustomization field, such as ``resources`` or ``patches[].path``."""
    value: str
    """The path or URL as written."""


@dataclass
class Reached:
    """What a build reads: local kustomizations and files, and remote references."""

    kustomizations: list[str] = field(default_factory=list)
    """Artifact-relative kustomization files, in the order they were reached."""
    files: list[str] = field(default_factory=list)
    """Artifact-relative files named by those kustomizations (manifests, patches, inputs)."""
    remote: list[Reference] = field(default_factory=list)
    """References kustomize would fetch over the network."""


def reach(
    root: Path,
    directory: Path,
    *,
    components: Sequence[Path] = (),
    generated: Mapping[str, Any] | None = None,
) -> Reached:
    """Walk the kustomizations and files a build of ``directory`` reads, checking each path.

    Args:
        root: the unpacked artifact, resolved.
        directory: the folder being built.
        components: the spec's component folders, resolved; walked like ``components`` entries.
        generated: the kustomization generated for ``directory`` when it has none on disk
            (read as its ``kustomization.yaml``); default none.

    Raises:
        BuildError: a reached kustomization is not valid YAML, or names a path outside the
            artifact (``../..``, an absolute path, a symlink out, a ``file://`` URL); the
            message names the file.
    """
    walk = _Walk(root)
    if generated is not None:
        walk.generated(directory, generated)
    walk.folder(directory)
    for component in components:
        walk.folder(component)
    return walk.reached


class _Walk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.reached = Reached()
        self._seen: set[Path] = set()

    def generated(self, directory: Path, document: Mapping[str, Any]) -> None:
        """Walk the kustomization generated for ``directory``, which is not on disk."""
        self._seen.add(directory)
        where = self._relative(directory / KUSTOMIZATION_FILES[0])
        self.reached.kustomizations.append(where)
        for field_name, value in _entries(dict(document)):
            self._follow(directory, where, field_name, value)

    def folder(self, directory: Path) -> None:
        if directory in self._seen:
            return
        self._seen.add(directory)
        path = find_kustomization(directory)
        if path is None:
            return  # kustomize reports a folder without a kustomization in its own words
        where = self._relative(path)
        self.reached.kustomizations.append(where)
        document = _load(path, where, what="kustomization")
        for field_name, value in _entries(document):
            self._follow(directory, where, field_name, value)

    def _follow(self, base: Path, where: str, field_name: str, value: str) -> None:
        if field_name in _PLUGIN_FIELDS and "\n" in value:
            config = _load_text(value, where, what="inline plugin config in")
            self._plugin_config(base, where, field_name, config)
            return
        if field_name == "patchesStrategicMerge" and "\n" in value:
            return  # an inline patch, not a path
        # Checked even for a remote reference: kustomize tries it as a local path first.
        try:
            target = (base / value).resolve()
        except (OSError, RuntimeError) as error:  # a symlink loop; its text holds our path
            message = f"{where}: path '{redact(value)}' cannot be resolved (a symlink loop?)"
            raise BuildError(message, path=where) from error
        outside = target != self.root and self.root not in target.parents
        if outside or value.lower().startswith("file:") or os.path.isabs(value):
            message = (
                f"{where}: path '{redact(value)}' ({field_name}) is outside the source artifact"
            )
            raise BuildError(message, path=where)
        if is_remote(value):
            self.reached.remote.append(Reference(where, field_name, value))
        # A remote-looking value that is also a local path (a folder named ``gh:org``) may be
        # read locally by kustomize, so what is there is followed too.
        if target.is_dir() and (field_name in _FOLDER_FIELDS or field_name in _PLUGIN_FIELDS):
            self.folder(target)
        elif target.is_file():
            self.reached.files.append(self._relative(target))
            if field_name in _PLUGIN_FIELDS:
                named = self._relative(target)
                config = _load(target, named, what="plugin config")
                self._plugin_config(base, named, field_name, config)

    def _plugin_config(self, base: Path, where: str, field_name: str, document: Any) -> None:
        """Follow the files a plugin config (in file ``where``) reads, relative to ``base``.

        kustomize reads them relative to the kustomization that lists the plugin.
        """
        for value in _config_paths(document):
            self._follow(base, where, f"{field_name}[]", value)

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _load(path: Path, where: str, *, what: str) -> Any:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise BuildError(f"invalid {what} {where}: {error}", path=where) from error
    return _load_text(text, where, what=what)


def _load_text(text: str, where: str, *, what: str) -> Any:
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        raise BuildError(f"invalid {what} {where}: {error}", path=where) from error
    return documents[0] if len(documents) == 1 else documents


def _entries(document: Any) -> Iterator[tuple[str, str]]:
    """Yield ``(field, path)`` for every path a kustomization document names."""
    if not isinstance(document, dict):
        return
    for name in (*_FOLDER_FIELDS, *_PLUGIN_FIELDS, *_FILE_LISTS):
        for value in _strings(document.get(name)):
            yield name, value
    for name in _PATH_OBJECTS:
        for item in _dicts(document.get(name)):
            for value in _strings(item.get("path")):
                yield f"{name}[].path", value
    openapi = document.get("openapi")
    if isinstance(openapi, dict):
        for value in _strings(openapi.get("path")):
            yield "openapi.path", value
    for name in _GENERATOR_LISTS:
        for item in _dicts(document.get(name)):
            for value in _strings(item.get("files")):
                yield f"{name}[].files", value.split("=", 1)[-1]
            for value in _strings(item.get("envs")):
                yield f"{name}[].envs", value
            for value in _strings(item.get("env")):
                yield f"{name}[].env", value


def _config_paths(node: Any, key: str | None = None) -> Iterator[str]:
    """Yield the path-like strings of a plugin config (``fieldSpecs`` paths are field paths)."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            if child_key != "fieldSpecs":
                yield from _config_paths(child, str(child_key))
    elif isinstance(node, list):
        for item in node:
            yield from _config_paths(item, key)
    elif isinstance(node, str) and key in _CONFIG_PATH_KEYS:
        yield node.split("=", 1)[-1] if key == "files" else node


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

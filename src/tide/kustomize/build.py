"""Build a Kustomization's manifests with the real kustomize, the way Flux does.

We run ``kubectl kustomize`` (kustomize v5 built into kubectl) rather than re-implementing
kustomize: users' overlays must render byte for byte as they do under Flux and on their laptops.
Flux's spec transforms (``targetNamespace``, ``namePrefix``/``nameSuffix``, ``patches``,
``images``, ``components``) are written as an overlay ``kustomization.yaml`` that wraps
``spec.path``, so kustomize itself applies them. ``commonMetadata`` is set on each object's
``metadata`` after the build, because kustomize's own label and annotation transformers also
rewrite selectors and pod templates, which Flux's ``commonMetadata`` promises not to touch.

The build writes into ``root`` (a generated ``kustomization.yaml`` where ``spec.path`` has none,
and a scratch overlay folder) and removes what it wrote before returning, so ``root`` must be a
private unpacked copy of the artifact, as it is in Flux.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tide import yamlio
from tide.api import reasons
from tide.api.kustomize import KustomizationSpec

__all__ = [
    "KUSTOMIZATION_FILES",
    "BuildError",
    "BuildOptions",
    "build",
    "find_kustomization",
    "generate_kustomization",
    "overlay_kustomization",
    "resolve_inside",
]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""File names kustomize recognises as a kustomization, in the order it looks for them."""

_YAML_SUFFIXES = (".yaml", ".yml")
_KLOG_ERR = re.compile(r'"command failed" err="(.*)"\s*$', re.DOTALL)
_REMOTE_PREFIXES = ("git::", "gh:", "ssh://", "https://", "http://", "git@", "github.com")
_PATH_KEYS = frozenset(
    {
        "resources",
        "bases",
        "components",
        "crds",
        "path",
        "files",
        "envs",
        "env",
        "patchesStrategicMerge",
        "configurations",
        "generators",
        "transformers",
        "validators",
    }
)
"""Kustomization keys whose string values are local paths kustomize will read."""


class BuildError(Exception):
    """The manifests could not be built; ``str()`` names the file and kustomize's own message.

    Carries ``reason`` (``BuildFailed``) so the reconciler maps it to a condition in one place.
    """

    reason = reasons.BUILD_FAILED

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        """The artifact-relative file or folder at fault, when known."""


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """The parts of a Kustomization spec that shape the build.

    Patches and images use kustomize's own field names (``newName``, ``target.labelSelector``),
    which are also Flux's, so they are written into the overlay unchanged.
    """

    path: str = ""
    """Folder inside the artifact to build; default the artifact root."""
    target_namespace: str | None = None
    """Namespace set on every namespaced object; default none (kept as written)."""
    name_prefix: str | None = None
    """Prefix added to every object's name; default none."""
    name_suffix: str | None = None
    """Suffix added to every object's name; default none."""
    common_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels set on every object's metadata only; default none."""
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations set on every object's metadata only; default none."""
    patches: Sequence[Mapping[str, Any]] = ()
    """Kustomize patches (``patch`` plus optional ``target``); default none."""
    images: Sequence[Mapping[str, str]] = ()
    """Kustomize image overrides; default none."""
    components: Sequence[str] = ()
    """Component folders relative to ``path``; default none."""
    ignore_missing_components: bool = False
    """Drop components whose folder is missing instead of failing; default ``False``."""
    timeout: float = 60.0
    """Seconds kustomize may run; default 60."""

    @classmethod
    def from_spec(cls, spec: KustomizationSpec, *, timeout: float = 60.0) -> BuildOptions:
        """Take the build inputs from a Kustomization spec (``timeout`` already in seconds)."""
        metadata = spec.common_metadata
        return cls(
            path=spec.path or "",
            target_namespace=spec.target_namespace,
            name_prefix=spec.name_prefix,
            name_suffix=spec.name_suffix,
            common_labels=dict((metadata and metadata.labels) or {}),
            common_annotations=dict((metadata and metadata.annotations) or {}),
            patches=[p.model_dump(by_alias=True, exclude_none=True) for p in spec.patches or []],
            images=[i.model_dump(by_alias=True, exclude_none=True) for i in spec.images or []],
            components=list(spec.components or []),
            ignore_missing_components=bool(spec.ignore_missing_components),
            timeout=timeout,
        )


def build(root: Path, options: BuildOptions) -> list[dict[str, Any]]:
    """Build ``options.path`` inside the unpacked artifact ``root`` and return its objects.

    Raises:
        BuildError: the path escapes the artifact, a file is not valid YAML, or kustomize
            failed or timed out; the message names the file and carries kustomize's message.
    """
    root = root.resolve()
    directory = resolve_inside(root, options.path or ".", what="spec.path")
    if not directory.is_dir():
        raise BuildError(
            f"spec.path '{options.path}' is not a folder in the artifact", path=options.path
        )
    with _generated(directory, root), _overlay(root, directory, options) as target:
        _check_local_paths(root, directory)
        output = _run_kustomize(target, root=root, timeout=options.timeout)
    objects = [doc for doc in yamlio.load_all(output) if doc]
    return [_with_common_metadata(obj, options) for obj in objects]


def resolve_inside(root: Path, relative: str, *, what: str) -> Path:
    """Return ``root / relative`` resolved, refusing anything that lands outside ``root``.

    Symlinks are followed before the check, so a link pointing out of the artifact is refused too.
    """
    candidate = (root / relative.lstrip("/")).resolve()
    if candidate != root and root not in candidate.parents:
        raise BuildError(f"{what} '{relative}' points outside the source artifact", path=relative)
    return candidate


def find_kustomization(directory: Path) -> Path | None:
    """Return the kustomization file in ``directory``, or ``None`` when there is none."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def generate_kustomization(directory: Path, *, root: Path | None = None) -> dict[str, Any]:
    """Return the kustomization Flux generates for a folder of plain manifests.

    Like Flux: YAML files are listed recursively; a sub-folder that has its own kustomization is
    listed as one resource and not descended into. Each YAML file is parsed first so that a
    broken file is reported by name rather than as kustomize's generic error.
    """
    root = root or directory
    resources: list[str] = []
    for current, folders, files in os.walk(directory):
        here = Path(current)
        kept = []
        for folder in sorted(folders):
            if find_kustomization(here / folder) is not None:
                resources.append((here / folder).relative_to(directory).as_posix())
            else:
                kept.append(folder)
        folders[:] = kept
        for name in sorted(files):
            path = here / name
            if path.suffix in _YAML_SUFFIXES:
                _parse_manifest(path, root)
                resources.append(path.relative_to(directory).as_posix())
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(resources),
    }


def overlay_kustomization(target: str, options: BuildOptions) -> dict[str, Any] | None:
    """Return the overlay that applies the spec's transforms to ``target``, or ``None``.

    ``target`` and the component paths are relative to the overlay's own folder.
    """
    document: dict[str, Any] = {}
    if options.target_namespace:
        document["namespace"] = options.target_namespace
    if options.name_prefix:
        document["namePrefix"] = options.name_prefix
    if options.name_suffix:
        document["nameSuffix"] = options.name_suffix
    if options.patches:
        document["patches"] = [dict(patch) for patch in options.patches]
    if options.images:
        document["images"] = [dict(image) for image in options.images]
    if options.components:
        document["components"] = list(options.components)
    if not document:
        return None
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [target],
        **document,
    }


def _parse_manifest(path: Path, root: Path) -> None:
    try:
        yamlio.load_all(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        relative = path.relative_to(root).as_posix()
        raise BuildError(
            f"failed to decode Kubernetes YAML from {relative}: {error}", path=relative
        ) from error


@contextmanager
def _generated(directory: Path, root: Path) -> Iterator[None]:
    if find_kustomization(directory) is not None:
        yield
        return
    document = generate_kustomization(directory, root=root)
    written = directory / KUSTOMIZATION_FILES[0]
    written.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        yield
    finally:
        written.unlink(missing_ok=True)


@contextmanager
def _overlay(root: Path, directory: Path, options: BuildOptions) -> Iterator[Path]:
    components = []
    for component in options.components:
        folder = resolve_inside(
            root, str(directory.relative_to(root) / component), what="component"
        )
        if not folder.exists() and options.ignore_missing_components:
            continue
        components.append(component)
    # Beside the artifact when the path is its root: kustomize refuses an overlay whose
    # resource folder contains the overlay itself (a cycle), which ``path: ./`` would be.
    scratch = Path(
        tempfile.mkdtemp(prefix=".tide-build-", dir=root.parent if directory == root else root)
    )
    try:
        back = os.path.relpath(directory, scratch)
        adjusted = BuildOptions(
            **{**options.__dict__, "components": [f"{back}/{c}" for c in components]}
        )
        document = overlay_kustomization(back, adjusted)
        if document is None:
            yield directory
            return
        (scratch / KUSTOMIZATION_FILES[0]).write_text(yaml.safe_dump(document, sort_keys=False))
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_local_paths(root: Path, directory: Path) -> None:
    """Refuse kustomizations that read files outside the artifact.

    kubectl's kustomize has no secure filesystem like Flux's, and we must allow loading from
    sibling folders (Flux builds with ``LoadRestrictionsNone``), so we check every kustomization
    in the artifact for local paths that leave it.
    """
    for current, _folders, files in os.walk(root):
        for name in files:
            if name not in KUSTOMIZATION_FILES:
                continue
            path = Path(current) / name
            try:
                document = yaml.safe_load(path.read_text())
            except (yaml.YAMLError, UnicodeDecodeError) as error:
                relative = path.relative_to(root).as_posix()
                raise BuildError(
                    f"invalid kustomization {relative}: {error}", path=relative
                ) from error
            for value in _path_values(document):
                if value.startswith(_REMOTE_PREFIXES):
                    continue
                where = path.relative_to(root).as_posix()
                if os.path.isabs(value):
                    raise BuildError(
                        f"{where}: path '{value}' is outside the source artifact", path=where
                    )
                resolve_inside(
                    root, str(path.parent.relative_to(root) / value), what=f"{where}: path"
                )


def _path_values(node: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from _path_values(child, str(child_key))
    elif isinstance(node, list):
        for item in node:
            yield from _path_values(item, key)
    elif isinstance(node, str) and key in _PATH_KEYS:
        yield node.split("=", 1)[-1] if key in {"files", "envs"} else node


def _run_kustomize(directory: Path, *, root: Path, timeout: float) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise BuildError("kubectl (which carries kustomize) is not on PATH")
    command = [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(directory)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise BuildError(f"kustomize build timed out after {timeout:g}s") from error
    if done.returncode != 0:
        raise BuildError(f"kustomize build failed: {_kustomize_message(done.stderr, root)}")
    return done.stdout


def _kustomize_message(stderr: str, root: Path) -> str:
    """Keep kustomize's own words: drop klog's prefix and the private artifact path."""
    text = stderr.strip()
    found = _KLOG_ERR.search(text)
    if found:
        text = found.group(1).replace('\\"', '"')
    return text.removeprefix("error: ").replace(f"{root}/", "")


def _with_common_metadata(obj: dict[str, Any], options: BuildOptions) -> dict[str, Any]:
    if not (options.common_labels or options.common_annotations):
        return obj
    metadata = obj.setdefault("metadata", {})
    if options.common_labels:
        metadata["labels"] = {**(metadata.get("labels") or {}), **options.common_labels}
    if options.common_annotations:
        annotations = metadata.get("annotations") or {}
        metadata["annotations"] = {**annotations, **options.common_annotations}
    return obj

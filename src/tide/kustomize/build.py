"""Build a Kustomization's manifests with the real kustomize, the way Flux does.

We run kustomize's own Go API (kustomize v5, the version in kubectl; :mod:`tide.kustomize.server`)
rather than re-implementing kustomize: users' overlays must render byte for byte as they do under
Flux and on their laptops. The controller sends every build to one long-lived build server;
without the server binary, ``kubectl kustomize --load-restrictor LoadRestrictionsNone`` runs per
build instead, with the same options and output.
Flux's spec transforms (``targetNamespace``, ``namePrefix``/``nameSuffix``, ``patches``,
``images``, ``components``) are written as an overlay ``kustomization.yaml`` that wraps
``spec.path``, so kustomize itself applies them. ``commonMetadata`` is set on each object's
``metadata`` after the build, because kustomize's own label and annotation transformers also
rewrite selectors and pod templates, which Flux's ``commonMetadata`` promises not to touch.

The overlay lives in a private scratch folder of its own, beside the artifact rather than in it:
kustomize refuses a base that contains the overlay using it, which would break the commonest
layout, ``path: ./``. Where ``spec.path`` has no kustomization, the one Flux would generate is
handed to the build server as a file it reads as if on disk, so ``root`` is never written and
may be shared; only the ``kubectl`` fallback writes it into ``root`` (and removes it before
returning), which then must be a private unpacked copy. Before kustomize runs, what the build
reaches is walked (:mod:`tide.kustomize.reach`) to refuse paths out of the artifact and, when
asked, remote bases.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from tide.api.kustomize import KustomizationSpec
from tide.kustomize import cancel as cancel_module
from tide.kustomize import reach
from tide.kustomize import server as server_module
from tide.kustomize.cancel import Cancellation
from tide.kustomize.paths import (
    KUSTOMIZATION_FILES,
    BuildError,
    find_kustomization,
    redact,
    resolve_inside,
)
from tide.kustomize.server import BuildServer, KustomizeFailed

__all__ = [
    "KUSTOMIZATION_FILES",
    "BuildError",
    "BuildOptions",
    "build",
    "build_async",
    "find_kustomization",
    "generate_kustomization",
    "kustomize_message",
    "overlay_kustomization",
    "resolve_inside",
]

_YAML_SUFFIXES = (".yaml", ".yml")
_KLOG_ERR = re.compile(r'"command failed" err="(.*)"\s*$', re.DOTALL)
_KLOG_MULTILINE_ERR = re.compile(r'"command failed" err=<\n(.*?)\n\s*>\s*$', re.DOTALL)
_TEMPORARY = re.compile(
    r"(?<![^\s'\"(=:])(?:/[^\s'\"/]+)*"
    r"/(?:tide-kustomization-\w+|tide-overlay-\w+|\.tide-build-\w+|kustomize-\d+)"
)
"""Scratch folders (ours and kustomize's clones) that must not reach a message."""
_OVERLAY = "<spec overlay>"
"""How messages name the overlay generated from the Kustomization spec."""


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
    no_remote_bases: bool = False
    """Refuse references kustomize would fetch over the network (Flux's
    ``--no-remote-bases``); default ``False``."""
    timeout: float = 60.0
    """Seconds kustomize may run; default 60."""

    @classmethod
    def from_spec(
        cls, spec: KustomizationSpec, *, timeout: float = 60.0, no_remote_bases: bool = False
    ) -> BuildOptions:
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
            no_remote_bases=no_remote_bases,
            timeout=timeout,
        )


def build(
    root: Path, options: BuildOptions, *, cancel: Cancellation | None = None
) -> list[dict[str, Any]]:
    """Build ``options.path`` inside the unpacked artifact ``root`` and return its objects.

    ``spec.path`` may be the artifact root itself (``./`` or empty): the overlay that carries
    the spec's transforms lives in a scratch folder of its own, outside ``root``. Kustomize runs
    as one process (a one-shot build server, else ``kubectl kustomize``); ``cancel`` lets
    another thread kill it (:func:`tide.kustomize.cancel.in_thread`).

    Raises:
        BuildError: a path escapes the artifact, a reached kustomization or file is not valid
            YAML, a remote reference is used under ``no_remote_bases``, or kustomize failed or
            timed out; the message names the file and carries kustomize's message, with no
            temporary folder in it.
    """
    plan = _plan(root, options)
    try:
        output = _render(plan, timeout=options.timeout, cancel=cancel)
    finally:
        plan.close()
    return _objects(output, options)


async def build_async(
    root: Path, options: BuildOptions, *, server: BuildServer | None
) -> list[dict[str, Any]]:
    """Build as :func:`build` does, on the long-lived ``server`` (``None``: as :func:`build`).

    Nothing is written into ``root``: the kustomization generated for a folder of plain
    manifests goes to the server with the request. So ``root`` may be an unpacked artifact
    shared read-only by every build of its digest.

    Raises:
        BuildError: as :func:`build`.
    """
    if server is None:
        return await cancel_module.in_thread(build, root, options)
    plan = await asyncio.to_thread(_plan, root, options)
    try:
        output = await server.render(plan.target, files=plan.files, timeout=options.timeout)
    except KustomizeFailed as error:
        raise plan.failed(str(error)) from None
    finally:
        plan.close()
    return await asyncio.to_thread(_objects, output, options)


@dataclass
class _Plan:
    """What kustomize is asked to build, once every path it reaches was checked."""

    root: Path
    target: Path
    """The folder kustomize builds: ``spec.path``, or the overlay wrapping it."""
    scratch: Path | None
    """The overlay's private folder (removed by :meth:`close`), ``None`` without an overlay."""
    files: dict[str, str]
    """Files kustomize reads as if on disk, by absolute path: the generated kustomization."""

    def failed(self, message: str) -> BuildError:
        """Return the error for kustomize's ``message``, in artifact terms."""
        text = kustomize_message(message, root=self.root, scratch=self.scratch)
        return BuildError(f"kustomize build failed: {text}")

    def close(self) -> None:
        """Remove the overlay's scratch folder."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _plan(root: Path, options: BuildOptions) -> _Plan:
    root = root.resolve()
    directory = resolve_inside(root, options.path or ".", what="spec.path")
    if not directory.is_dir():
        raise BuildError(
            f"spec.path '{options.path}' is not a folder in the artifact", path=options.path
        )
    components = _components(root, directory, options)
    files: dict[str, str] = {}
    generated = None
    if find_kustomization(directory) is None:
        generated = generate_kustomization(directory, root=root)
        files[str(directory / KUSTOMIZATION_FILES[0])] = yaml.safe_dump(generated, sort_keys=False)
    reached = reach.reach(
        root, directory, components=[c for c in components if c.is_dir()], generated=generated
    )
    if options.no_remote_bases:
        _refuse_remote(reached.remote)
    target, scratch = _overlay(directory, components, options)
    return _Plan(root=root, target=target, scratch=scratch, files=files)


def _render(plan: _Plan, *, timeout: float, cancel: Cancellation | None) -> str:
    program = server_module.find_program()
    if program is None:
        with _written(plan.files):
            return _run_kustomize(plan, timeout=timeout, cancel=cancel)
    try:
        return server_module.render_once(
            program, plan.target, files=plan.files, timeout=timeout, cancel=cancel
        )
    except KustomizeFailed as error:
        raise plan.failed(str(error)) from None


def _objects(output: str, options: BuildOptions) -> list[dict[str, Any]]:
    objects = [doc for doc in yamlio.load_all(output) if doc]
    return [_with_common_metadata(obj, options) for obj in objects]


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
    relative = path.relative_to(root).as_posix()
    if path.is_symlink():  # read nothing outside the artifact, not even to report an error
        resolve_inside(root, relative, what="file")
    try:
        yamlio.load_all(path.read_text())
    except OSError as error:
        raise BuildError(f"cannot read {relative}: {error.strerror}", path=relative) from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BuildError(
            f"failed to decode Kubernetes YAML from {relative}: {error}", path=relative
        ) from error


@contextmanager
def _written(files: Mapping[str, str]) -> Iterator[None]:
    """Write the plan's generated files for ``kubectl kustomize``, and remove them after."""
    for name, text in files.items():
        Path(name).write_text(text)
    try:
        yield
    finally:
        for name in files:
            Path(name).unlink(missing_ok=True)


def _components(root: Path, directory: Path, options: BuildOptions) -> list[Path]:
    """Resolve the spec's components (relative to ``spec.path``), dropping missing ones if asked."""
    components = []
    for component in options.components:
        folder = resolve_inside(
            root, str(directory.relative_to(root) / component), what="component"
        )
        if not folder.exists() and options.ignore_missing_components:
            continue
        components.append(folder)
    return components


def _refuse_remote(remote: Sequence[reach.Reference]) -> None:
    if not remote:
        return
    named = "; ".join(
        f"{ref.file}: {ref.field} entry '{redact(ref.value)}' is remote" for ref in remote
    )
    raise BuildError(
        f"{named}: remote bases are not allowed (--no-remote-bases)", path=remote[0].file
    )


def _overlay(
    directory: Path, components: Sequence[Path], options: BuildOptions
) -> tuple[Path, Path | None]:
    """Return the folder to build and the overlay's scratch folder (``None`` without one).

    The overlay lives in a private folder outside the artifact: kustomize refuses a base that
    contains the overlay using it, which is the case when ``spec.path`` is the root.
    """
    if overlay_kustomization(".", dataclasses.replace(options, components=components)) is None:
        return directory, None
    scratch = Path(tempfile.mkdtemp(prefix="tide-overlay-")).resolve()
    adjusted = dataclasses.replace(
        options, components=[os.path.relpath(c, scratch) for c in components]
    )
    document = overlay_kustomization(os.path.relpath(directory, scratch), adjusted)
    (scratch / KUSTOMIZATION_FILES[0]).write_text(yaml.safe_dump(document, sort_keys=False))
    return scratch, scratch


def _run_kustomize(plan: _Plan, *, timeout: float, cancel: Cancellation | None) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise BuildError("kubectl (which carries kustomize) is not on PATH")
    command = [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(plan.target)]
    process = (cancel or Cancellation()).start(command)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        process.kill()
        process.communicate()
        raise BuildError(f"kustomize build timed out after {timeout:g}s") from error
    if process.returncode != 0:
        raise plan.failed(stderr)
    return stdout


def kustomize_message(stderr: str, *, root: Path, scratch: Path | None = None) -> str:
    """Keep kustomize's own words, with every temporary folder turned into what it stands for.

    klog's prefix goes; paths under ``root`` become artifact-relative (``root`` itself ``.``),
    references from the overlay in ``scratch`` back to ``root`` likewise, and the overlay itself
    reads ``<spec overlay>``. Any other scratch folder left (kustomize's own clones) reads
    ``<temporary>``.
    """
    text = stderr.strip()
    if found := _KLOG_ERR.search(text):
        text = found.group(1).replace('\\"', '"')
    elif found := _KLOG_MULTILINE_ERR.search(text):
        text = "\n".join(line.removeprefix("\t") for line in found.group(1).splitlines())
    text = text.removeprefix("error: ")
    replacements = [(str(root), ".")]
    if scratch is not None:
        # The relative reference first: it ends with the root's absolute path ("../../x/y").
        replacements = [(os.path.relpath(root, scratch), "."), (str(scratch), _OVERLAY)]
        replacements.append((str(root), "."))
    for before, after in replacements:
        text = text.replace(f"{before}/", "" if after == "." else f"{after}/")
        text = text.replace(before, after)
    return _TEMPORARY.sub("<temporary>", text)


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

"""``spec.postRenderers`` and ``spec.commonMetadata``, through Helm's own post-render hook.

Helm v4 post-renders only through a plugin of type ``postrenderer/v1``: a subprocess that reads
the rendered manifests on stdin and writes them on stdout, named in the install or upgrade
options (``post_renderer``, ``post_renderer_args``). Tide registers one such plugin whose
program is :mod:`tide.kustomize.postrender` (the real kustomize, as Kustomizations use), and
hands each action a JSON file with that release's steps. So the post-rendered manifest is the
one Helm applies, stores, waits on and later upgrades from; nothing is applied beside Helm.

Hooks are left as the chart renders them (Helm's ``nohooks`` strategy), as in Flux, whose Helm
never post-rendered hooks.

Where the plugin goes: the SDK's Go runtime copies the process's environment once, when the
library loads, and never sees later changes — so ``HELM_PLUGINS`` cannot be pointed elsewhere
from Python. The plugin is written into the folder Helm searches with the environment the
process *started* with (``/proc/self/environ``): the first entry of ``HELM_PLUGINS``, else
``$HELM_DATA_HOME/plugins``, ``$XDG_DATA_HOME/helm/plugins`` or ``~/.local/share/helm/plugins``.
Its name carries a digest of its command, so Tides with different interpreters sharing a
home do not overwrite each other's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tide.api.helm import HelmRelease, KustomizePostRenderer

__all__ = [
    "PostRenderError",
    "common_metadata_digest",
    "failure",
    "native_options",
    "plugins_directory",
    "post_renderers_digest",
    "render_spec",
]

_PROGRAM = "tide.kustomize.postrender"
"""The module the plugin runs (named, not imported: tide.helm does not import tide.kustomize)."""
_ERROR_SUFFIX = ".error"
"""Where the program leaves its message (``tide.kustomize.postrender.ERROR_SUFFIX``)."""
_lock = threading.Lock()


class PostRenderError(Exception):
    """The post-render plugin could not be set up, or a post-renderer failed."""


def render_spec(release: HelmRelease) -> dict[str, Any] | None:
    """The program's spec for this release (steps, labels, annotations); None when empty."""
    spec = release.spec
    steps = [_step(r.kustomize) for r in spec.post_renderers or [] if r.kustomize is not None]
    metadata = spec.common_metadata
    labels = dict((metadata and metadata.labels) or {})
    annotations = dict((metadata and metadata.annotations) or {})
    steps = [step for step in steps if step]
    if not (steps or labels or annotations):
        return None
    return {"steps": steps, "labels": labels, "annotations": annotations}


def _step(kustomize: KustomizePostRenderer) -> dict[str, Any]:
    """One kustomize step; the deprecated patch forms become entries of ``patches``."""
    patches = [p.model_dump(by_alias=True, exclude_none=True) for p in kustomize.patches or []]
    for document in kustomize.patches_strategic_merge or []:
        patches.append({"patch": json.dumps(document)})
    for patch in kustomize.patches_json6902 or []:
        dumped = patch.model_dump(by_alias=True, exclude_none=True)
        patches.append({"patch": json.dumps(dumped["patch"]), "target": dumped["target"]})
    images = [i.model_dump(by_alias=True, exclude_none=True) for i in kustomize.images or []]
    step: dict[str, Any] = {}
    if patches:
        step["patches"] = patches
    if images:
        step["images"] = images
    return step


def _digest(value: Any) -> str:
    if not value:
        return ""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def post_renderers_digest(release: HelmRelease) -> str:
    """Digest of ``spec.postRenderers`` (``observedPostRenderersDigest``); "" when none."""
    renderers = release.spec.post_renderers or []
    return _digest([r.model_dump(by_alias=True, exclude_none=True) for r in renderers])


def common_metadata_digest(release: HelmRelease) -> str:
    """Digest of ``spec.commonMetadata`` (``observedCommonMetadataDigest``); "" when none."""
    metadata = release.spec.common_metadata
    return _digest(metadata.model_dump(by_alias=True, exclude_none=True) if metadata else None)


@contextlib.contextmanager
def native_options(spec: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    """Yield the install/upgrade options that post-render with ``spec`` ({} for None).

    The spec file lives as long as the action: read a failure the program reported with
    :func:`failure` before leaving the block.

    Raises:
        PostRenderError: the plugin cannot be written where Helm looks for it.
    """
    if spec is None:
        yield {}
        return
    name = _ensure_plugin()
    with tempfile.TemporaryDirectory(prefix="tide-postrender-spec-") as scratch:
        path = Path(scratch) / "spec.json"
        path.write_text(json.dumps(spec))
        yield {
            "post_renderer": name,
            "post_renderer_args": [str(path)],
            "post_render_strategy": "nohooks",
        }


def failure(options: Mapping[str, Any]) -> str | None:
    """The message the program left for the action run with ``options``, if it failed."""
    args = options.get("post_renderer_args") or []
    if not args:
        return None
    try:
        return Path(f"{args[0]}{_ERROR_SUFFIX}").read_text().strip() or None
    except OSError:
        return None


def _command() -> list[str]:
    """The program with this process's interpreter and import path for Tide itself."""
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import runpy, sys; sys.path.insert(0, {root!r}); "
        f"runpy.run_module({_PROGRAM!r}, run_name='__main__')"
    )
    return [sys.executable, "-c", code]


def _initial_environment() -> Mapping[str, str]:
    """The environment the process started with: what the SDK's Go runtime reads."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return os.environ
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def plugins_directory() -> Path:
    """The folder Helm (in this process) searches first for plugins."""
    env = _initial_environment()
    if listed := [p for p in env.get("HELM_PLUGINS", "").split(os.pathsep) if p]:
        return Path(listed[0])
    if data := env.get("HELM_DATA_HOME"):
        return Path(data) / "plugins"
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/share")
    return Path(base) / "helm" / "plugins"


def _ensure_plugin() -> str:
    """Write the plugin (once per process, atomically) and return its name."""
    command = _command()
    name = "tide-post-renderer-" + hashlib.sha256("\0".join(command).encode()).hexdigest()[:12]
    folder = plugins_directory() / name
    manifest = {
        "apiVersion": "v1",
        "name": name,
        "type": "postrenderer/v1",
        "runtime": "subprocess",
        "version": "0.1.0",
        "runtimeConfig": {
            "platformCommand": [{"command": command[0], "args": command[1:]}],
        },
    }
    text = json.dumps(manifest, indent=2)  # JSON is YAML
    with _lock:
        try:
            if (folder / "plugin.yaml").read_text() == text:
                return name
        except OSError:
            pass
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = folder / f".plugin.yaml.{os.getpid()}"
            written.write_text(text)
            written.replace(folder / "plugin.yaml")
        except OSError as error:
            raise PostRenderError(
                f"cannot install Tide's post-renderer plugin into {folder.parent}: "
                f"{error.strerror or error}; set HELM_PLUGINS to a writable folder"
            ) from error
    return name

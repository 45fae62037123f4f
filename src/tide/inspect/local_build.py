"""Build a local folder exactly as the Kustomization controller builds an artifact.

``tide build``, ``tide diff`` and the dashboard's diff must show what the controller *would*
apply, so they run the controller's own code on a local checkout:
:func:`tide.kustomize.build.build` with the Kustomization's spec transforms
(``targetNamespace``, ``namePrefix``, ``patches``, ``images``, ``components``,
``commonMetadata``), then ``postBuild`` substitution (from the cluster's ConfigMaps and Secrets,
or only the inline ``substitute`` offline), then the owner labels the controller adds when it
applies.

The controller builds an unpacked artifact it owns (the build may add a generated
``kustomization.yaml``); here the enclosing Git work tree (or the folder itself outside Git) is
copied to a scratch folder first, so the user's checkout is never written and ``../base``
references resolve as they would in the artifact.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tide.api import keys
from tide.api.kustomize import Kustomization
from tide.api.meta import parse_duration
from tide.kube.client import KubeClient
from tide.kustomize import inputs
from tide.kustomize.build import BuildOptions, build
from tide.kustomize.paths import BuildError
from tide.kustomize.substitute import substitute
from tide.runtime.steps import StepFailed

__all__ = ["LocalBuildError", "build_folder", "parse_kustomization"]


class LocalBuildError(Exception):
    """The folder does not build as the controller would build it; the message says why."""


def parse_kustomization(obj: dict[str, Any]) -> Kustomization:
    """Parse a Kustomization read from the cluster or a file, refusing it in one line."""
    try:
        return Kustomization.model_validate(obj)
    except ValueError as error:
        first = str(error).splitlines()
        raise LocalBuildError(f"invalid Kustomization: {' '.join(first[:3])}") from None


def _work_tree(folder: Path) -> Path:
    """The Git work tree holding ``folder``, or ``folder`` itself outside Git."""
    try:
        top = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return folder
    return Path(top).resolve() if top else folder


def _build_copy(folder: Path, root: Path | None, options: BuildOptions) -> list[dict[str, Any]]:
    folder = folder.resolve()
    if not folder.is_dir():
        raise LocalBuildError(f"--path '{folder}' is not a folder")
    root = root.resolve() if root is not None else _work_tree(folder)
    if not folder.is_relative_to(root):  # a spec.path like ../x, read from the cluster
        raise LocalBuildError(f"path '{folder}' is outside the source's root '{root}'")
    relative = folder.relative_to(root)
    with tempfile.TemporaryDirectory(prefix="tide-build-") as scratch:
        copy = Path(scratch) / "root"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        return build(copy, dataclasses.replace(options, path=str(relative)))


async def build_folder(
    kustomization: Kustomization,
    folder: Path,
    *,
    client: KubeClient | None,
    root: Path | None = None,
) -> list[dict[str, Any]]:
    """Return the objects the controller would apply for ``kustomization`` built from ``folder``.

    Args:
        kustomization: the object whose spec shapes the build.
        folder: the local folder standing for ``spec.path``.
        client: where ``postBuild.substituteFrom`` is read; None builds offline, with only the
            inline ``postBuild.substitute`` variables.
        root: the tree ``folder`` lies in, as an artifact's root; default the Git work tree
            holding ``folder`` (or ``folder`` itself outside Git).

    Raises:
        LocalBuildError: the folder does not exist, kustomize or substitution failed, or a
            ``substituteFrom`` ConfigMap or Secret is missing.
    """
    spec = kustomization.spec
    options = BuildOptions.from_spec(spec, timeout=parse_duration(spec.timeout or spec.interval))
    try:
        objects = await asyncio.to_thread(_build_copy, folder, root, options)
        if client is not None:
            variables = await inputs.substitution_variables(kustomization, client)
        elif spec.post_build is not None and spec.post_build.substitute:
            variables = dict(spec.post_build.substitute)
        else:
            variables = None
        if variables is not None:
            objects = substitute(objects, variables)
    except (BuildError, StepFailed) as error:  # SubstitutionError is a BuildError
        raise LocalBuildError(str(error)) from None
    owner = {
        keys.KUSTOMIZE_NAME_LABEL: kustomization.metadata.name,
        keys.KUSTOMIZE_NAMESPACE_LABEL: kustomization.metadata.namespace or "default",
    }
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        metadata["labels"] = {**(metadata.get("labels") or {}), **owner}
    return objects

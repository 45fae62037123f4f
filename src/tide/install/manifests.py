"""Render the objects ``tide install`` puts on a cluster, as plain dictionaries.

Rendering is pure (no cluster needed): ``tide install --export`` prints it and
``tide bootstrap git`` commits it as ``gotk-components.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

import tide
from tide.api import crdgen
from tide.api.kinds import (
    HELM_CONTROLLER,
    IMAGE_AUTOMATION_CONTROLLER,
    IMAGE_REFLECTOR_CONTROLLER,
    KUSTOMIZE_CONTROLLER,
    NOTIFICATION_CONTROLLER,
    SOURCE_CONTROLLER,
)

__all__ = ["DEFAULT_COMPONENTS", "EXTRA_COMPONENTS", "InstallOptions", "render"]

DEFAULT_COMPONENTS = (
    SOURCE_CONTROLLER,
    KUSTOMIZE_CONTROLLER,
    HELM_CONTROLLER,
    NOTIFICATION_CONTROLLER,
)
"""What ``--components`` installs unless told otherwise (Flux's default set)."""
EXTRA_COMPONENTS = (IMAGE_REFLECTOR_CONTROLLER, IMAGE_AUTOMATION_CONTROLLER)
"""What ``--components-extra`` may add."""


@dataclass(frozen=True)
class InstallOptions:
    """What ``tide install`` / ``tide bootstrap`` take from the command line (Flux's flags)."""

    namespace: str = "flux-system"
    components: tuple[str, ...] = DEFAULT_COMPONENTS
    components_extra: tuple[str, ...] = ()
    registry: str = "ghcr.io/tide-gitops"
    image_pull_secret: str | None = None
    version: str = tide.__version__
    network_policy: bool = True
    watch_all_namespaces: bool = True
    cluster_domain: str = "cluster.local"


def render(options: InstallOptions) -> list[dict[str, Any]]:
    """Return every object to install, in apply order (Namespace and CRDs first)."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": options.namespace},
    }
    crds = [yaml.safe_load(text) for text in crdgen.render_all().values()]
    return [namespace, *(doc for doc in crds if doc.get("kind") == "CustomResourceDefinition")]

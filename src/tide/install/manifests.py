"""Render the objects ``tide install`` puts on a cluster, as plain dictionaries.

Rendering is pure (no cluster needed): ``tide install --export`` prints it and
``tide bootstrap git`` commits it as ``gotk-components.yaml``. The shapes are Flux's
(``flux install --export``): the same object names, labels, RBAC and Services, so tools and
habits built on a Flux installation carry over; only the containers differ (one Tide image).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import tide
from tide.api import crdgen
from tide.api.kinds import (
    COMPONENTS,
    HELM_CONTROLLER,
    IMAGE_AUTOMATION_CONTROLLER,
    IMAGE_REFLECTOR_CONTROLLER,
    KINDS,
    KUSTOMIZE_CONTROLLER,
    NOTIFICATION_CONTROLLER,
    SOURCE_CONTROLLER,
    SOURCE_WATCHER,
)
from tide.install import _dashboard, _meta, _network, _rbac, _workloads
from tide.install._dashboard import DASHBOARD
from tide.runtime import features

__all__ = [
    "DASHBOARD",
    "DEFAULT_COMPONENTS",
    "EXTRA_COMPONENTS",
    "IMAGE_NAME",
    "InstallError",
    "InstallOptions",
    "render",
]

DEFAULT_COMPONENTS = (
    SOURCE_CONTROLLER,
    KUSTOMIZE_CONTROLLER,
    HELM_CONTROLLER,
    NOTIFICATION_CONTROLLER,
)
"""What ``--components`` installs unless told otherwise (Flux's default set)."""
EXTRA_COMPONENTS = (
    IMAGE_REFLECTOR_CONTROLLER,
    IMAGE_AUTOMATION_CONTROLLER,
    SOURCE_WATCHER,
    DASHBOARD,
)
"""What ``--components-extra`` may add. ``source-watcher`` gets no Deployment of its own:
Tide's source-controller serves ArtifactGenerator, so naming it only requires source-controller.
``dashboard`` is ``tide dashboard`` in the cluster, read-only (``tide-dashboard`` objects).
"""
IMAGE_NAME = "tide"
"""The image every Deployment runs: ``<registry>/tide:<version>``."""
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class InstallError(ValueError):
    """The install options cannot be rendered (an unknown component, a bad namespace...)."""


@dataclass(frozen=True)
class InstallOptions:
    """What ``tide install`` / ``tide bootstrap`` take from the command line (Flux's flags).

    Attributes:
        namespace: where the controllers run (default ``flux-system``).
        components: controllers to install (default :data:`DEFAULT_COMPONENTS`).
        components_extra: more from :data:`EXTRA_COMPONENTS` (default none).
        registry: image registry and repository prefix (default ``ghcr.io/tide-gitops``).
        image_pull_secret: Secret in ``namespace`` the kubelet pulls with (default none).
        version: image tag and ``app.kubernetes.io/version`` (default Tide's version).
        network_policy: add Flux's NetworkPolicies (default true).
        watch_all_namespaces: watch every namespace (default true); false confines each
            controller to ``namespace`` (``--watch-all-namespaces=false``, as Flux's).
        cluster_domain: the cluster's DNS domain, for the advertised artifact URL
            (default ``cluster.local``).
        feature_gates: controller feature gates to turn on (:mod:`tide.runtime.features`;
            default none). ``ObjectLevelWorkloadIdentity`` also grants helm-controller, alone,
            the right to mint ServiceAccount tokens.
    """

    namespace: str = "flux-system"
    components: tuple[str, ...] = DEFAULT_COMPONENTS
    components_extra: tuple[str, ...] = ()
    registry: str = "ghcr.io/tide-gitops"
    image_pull_secret: str | None = None
    version: str = tide.__version__
    network_policy: bool = True
    watch_all_namespaces: bool = True
    cluster_domain: str = "cluster.local"
    feature_gates: frozenset[str] = frozenset()

    @property
    def image(self) -> str:
        """Return the image reference every Deployment runs."""
        return f"{self.registry.rstrip('/')}/{IMAGE_NAME}:{self.version}"

    @property
    def controllers(self) -> tuple[str, ...]:
        """Return the components that get a Deployment, in Flux's order."""
        chosen = set(self.components) | set(self.components_extra)
        return tuple(name for name in COMPONENTS if name in chosen and name != SOURCE_WATCHER)


def render(options: InstallOptions) -> list[dict[str, Any]]:
    """Return every object to install, in apply order (Namespace and CRDs first).

    Raises:
        InstallError: an unknown component, a component in the wrong list, ``source-watcher``
            without ``source-controller``, a namespace that is no DNS label, or an empty
            registry or version.
    """
    _check(options)
    ns, version = options.namespace, options.version
    controllers = list(options.controllers)
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": ns,
            "labels": {
                **_meta.labels(ns, version),
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/warn-version": "latest",
            },
        },
    }
    documents = [namespace, *_crds(options)]
    documents += _rbac.service_accounts(controllers, namespace=ns, version=version)
    documents += _rbac.rbac_documents(
        controllers, namespace=ns, version=version, feature_gates=options.feature_gates
    )
    documents += _workloads.services(controllers, namespace=ns, version=version)
    documents += [
        _workloads.deployment(name, options, notifications=NOTIFICATION_CONTROLLER in controllers)
        for name in controllers
    ]
    if DASHBOARD in options.components_extra:
        documents += _dashboard.dashboard_documents(
            namespace=ns,
            version=version,
            image=options.image,
            image_pull_secret=options.image_pull_secret,
            cluster_domain=options.cluster_domain,
        )
    if options.network_policy:
        documents += _network.network_policies(
            controllers, namespace=ns, version=version, metrics_port=_workloads.METRICS_PORT
        )
    return documents


def _crds(options: InstallOptions) -> list[dict[str, Any]]:
    """Every CRD Tide serves (all of them, whatever the components: Flux installs all too)."""
    crds = []
    for info in KINDS:
        crd = crdgen.crd_for(info)
        crd["metadata"]["labels"] = {
            **crd["metadata"].get("labels", {}),
            **_meta.labels(options.namespace, options.version),
        }
        crds.append(crd)
    return crds


def _check(options: InstallOptions) -> None:
    for flag, given, allowed in (
        ("--components", options.components, DEFAULT_COMPONENTS),
        ("--components-extra", options.components_extra, EXTRA_COMPONENTS),
    ):
        unknown = [name for name in given if name not in allowed]
        if unknown:
            raise InstallError(
                f"{flag}: unknown component {', '.join(unknown)}; expected any of "
                f"{', '.join(allowed)}"
            )
    if not options.components:
        raise InstallError("--components: at least one component is required")
    unknown_gates = sorted(options.feature_gates - set(features.GATES))
    if unknown_gates:
        raise InstallError(
            f"--feature-gates: unknown feature gate {', '.join(unknown_gates)}; expected any of "
            f"{', '.join(sorted(features.GATES))}"
        )
    if SOURCE_WATCHER in options.components_extra and SOURCE_CONTROLLER not in options.components:
        raise InstallError(
            "--components-extra source-watcher: Tide serves ArtifactGenerator in "
            "source-controller, which --components must include"
        )
    if not _DNS_LABEL.match(options.namespace):
        raise InstallError(
            f"--namespace {options.namespace!r}: expected a DNS label (lower-case letters, "
            "digits and '-', at most 63)"
        )
    if not options.registry.strip("/") or not options.version:
        raise InstallError("--registry and --version must not be empty")

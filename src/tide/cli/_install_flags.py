"""The install flags ``tide install`` and ``tide bootstrap git`` share, declared once.

Flux's ``install`` and ``bootstrap`` take the same flags for what to install (``--components``,
``--components-extra``, ``--registry``, ``--version``...); here they are appended to a command's
signature by :func:`install_command`, which hands the command one
:class:`~tide.install.InstallOptions` and one :class:`~tide.cli._session.ClusterOptions`, so a
new install option is added in one place for both commands.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from tide.cli._session import (
    DEFAULT_NAMESPACE,
    ClusterOptions,
    Context,
    Kubeconfig,
    Namespace,
    Timeout,
    keyword_option,
    with_parameters,
)
from tide.install import DEFAULT_COMPONENTS, EXTRA_COMPONENTS, InstallOptions
from tide.runtime import features

__all__ = ["Components", "ComponentsExtra", "install_command", "parse_components"]

T = TypeVar("T")
_DEFAULTS = InstallOptions()

Components = Annotated[
    str,
    typer.Option(
        "--components",
        help=f"Components to install, comma-separated ({', '.join(DEFAULT_COMPONENTS)}).",
    ),
]
ComponentsExtra = Annotated[
    str,
    typer.Option(
        "--components-extra",
        help=f"More components, comma-separated ({', '.join(EXTRA_COMPONENTS)}).",
    ),
]
Registry = Annotated[str, typer.Option("--registry", help="Container registry of the tide image.")]
ImagePullSecret = Annotated[
    str | None,
    typer.Option("--image-pull-secret", help="Secret (in --namespace) to pull the image with."),
]
Version = Annotated[str, typer.Option("--version", "-v", help="Tag of the tide image.")]
NetworkPolicy = Annotated[
    bool,
    typer.Option(
        "--network-policy/--no-network-policy",
        help="Restrict ingress to the namespace, as Flux's NetworkPolicies do.",
    ),
]
WatchAllNamespaces = Annotated[
    bool,
    typer.Option(
        "--watch-all-namespaces/--no-watch-all-namespaces",
        help="Watch every namespace; false: only --namespace.",
    ),
]
ClusterDomain = Annotated[str, typer.Option("--cluster-domain", help="The cluster's DNS domain.")]
FeatureGates = Annotated[
    str,
    typer.Option(
        "--feature-gates",
        help="Controller feature gates, Name=true|false, comma-separated; "
        "ObjectLevelWorkloadIdentity=true also lets helm-controller mint ServiceAccount tokens.",
    ),
]


def parse_components(text: str) -> tuple[str, ...]:
    """Split a comma-separated component list; :func:`tide.install.render` judges the names."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def install_command(*, timeout: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Add the install and cluster flags to a command taking ``cluster`` and ``install``."""
    parameters = [
        keyword_option("namespace", Namespace, DEFAULT_NAMESPACE),
        keyword_option("components", Components, ",".join(DEFAULT_COMPONENTS)),
        keyword_option("components_extra", ComponentsExtra, ""),
        keyword_option("registry", Registry, _DEFAULTS.registry),
        keyword_option("image_pull_secret", ImagePullSecret, None),
        keyword_option("version", Version, _DEFAULTS.version),
        keyword_option("network_policy", NetworkPolicy, _DEFAULTS.network_policy),
        keyword_option("watch_all_namespaces", WatchAllNamespaces, True),
        keyword_option("cluster_domain", ClusterDomain, _DEFAULTS.cluster_domain),
        keyword_option("feature_gates", FeatureGates, ""),
        keyword_option("kubeconfig", Kubeconfig, None),
        keyword_option("context", Context, None),
        keyword_option("timeout", Timeout, timeout),
    ]

    def collect(values: dict[str, Any]) -> dict[str, Any]:
        kubeconfig: Path | None = values.pop("kubeconfig")
        cluster = ClusterOptions.of(
            namespace=values["namespace"],
            kubeconfig=kubeconfig,
            context=values.pop("context"),
            timeout=values.pop("timeout"),
        )
        values["components"] = parse_components(values["components"])
        values["components_extra"] = parse_components(values["components_extra"])
        try:
            values["feature_gates"] = features.parse_feature_gates(values["feature_gates"])
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        return {"cluster": cluster, "install": InstallOptions(**values)}

    def decorate(command: Callable[..., T]) -> Callable[..., T]:
        return with_parameters(command, parameters, collect, provides=("cluster", "install"))

    return decorate

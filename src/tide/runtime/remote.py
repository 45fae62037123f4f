"""Connect to another cluster through the kubeconfig a tenant keeps in a Secret.

Kustomizations and HelmReleases both reach other clusters through ``spec.kubeConfig.secretRef``;
both refuse the same kubeconfigs (:mod:`tide.kube.kubeconfig`) in the same words, each with the
reason its kind reports failures under.
"""

from __future__ import annotations

import base64
from typing import Any

from tide import yamlio
from tide.api._shared import KubeConfigReference
from tide.kube import kubeconfig, resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.runtime.steps import Stalled, StepFailed

__all__ = ["KUBECONFIG_KEYS", "connect_config", "connect_kubeconfig", "read_kubeconfig"]

KUBECONFIG_KEYS = ("value", "value.yaml")
"""Keys searched for a kubeconfig when ``secretRef.key`` is not set, in Flux's order."""


async def read_kubeconfig(
    client: KubeClient,
    reference: KubeConfigReference | None,
    *,
    namespace: str,
    reason: str,
    gone: type[StepFailed],
) -> tuple[str, str, bytes]:
    """Return the Secret ``reference`` names: its name, how messages name it, its kubeconfig.

    Raises:
        gone: the Secret does not exist (at deletion there is nothing to reach the cluster with).
        StepFailed: it holds none of the keys a kubeconfig may be under.
        Stalled: the reference names a provider (cloud identity) instead of a Secret.
    """
    if reference is None or reference.secret_ref is None:
        provider = reference.provider if reference else "?"
        raise Stalled(
            f"spec.kubeConfig.provider '{provider}' is not supported: Tide reaches other "
            "clusters through a kubeconfig in spec.kubeConfig.secretRef only",
            reason=reason,
        )
    name = reference.secret_ref.name
    where = f"Secret '{namespace}/{name}' (spec.kubeConfig.secretRef)"
    secret = await client.get_or_none(resources.SECRET, name, namespace=namespace)
    if secret is None:
        raise gone(f"{where} not found", reason=reason)
    data = secret.get("data") or {}
    keys = (reference.secret_ref.key,) if reference.secret_ref.key else KUBECONFIG_KEYS
    encoded = next((data[key] for key in keys if key in data), None)
    if encoded is None:
        raise StepFailed(
            f"{where} has no key {' or '.join(repr(k) for k in keys)} holding a kubeconfig",
            reason=reason,
        )
    return name, where, base64.b64decode(encoded)


def connect_kubeconfig(raw: bytes, where: str, *, field_manager: str, reason: str) -> KubeClient:
    """Return a client for the kubeconfig ``raw``, read from ``where`` (as users name it).

    Raises:
        StepFailed: ``raw`` is not YAML (described by position only: the line may hold a
            token), not a mapping, or not a kubeconfig a client can be made from.
        Stalled: the kubeconfig would run programs or read files; only its spec can change that.
    """
    invalid = f"{where} does not hold a valid kubeconfig"
    config = yamlio.load_or_fail(
        raw, lambda problem: StepFailed(f"{invalid}: not YAML ({problem})", reason=reason)
    )
    return connect_config(config, where, field_manager=field_manager, reason=reason)


def connect_config(config: Any, where: str, *, field_manager: str, reason: str) -> KubeClient:
    """Return a client for the parsed kubeconfig ``config`` (a minted one, or one read).

    Raises:
        StepFailed: ``config`` is not a mapping or not a kubeconfig a client can be made from.
        Stalled: the kubeconfig would run programs or read files; only its spec can change that.
    """
    try:
        if not isinstance(config, dict):
            raise KubeError("not a YAML mapping")
        kubeconfig.check(config)
        return KubeClient.from_config(config, field_manager=field_manager)
    except kubeconfig.UnsafeKubeconfig as error:
        raise Stalled(f"{where}: {error}", reason=reason) from error
    except KubeError as error:
        raise StepFailed(
            f"{where} does not hold a valid kubeconfig: {error}", reason=reason
        ) from error

"""``spec.kubeConfig.configMapRef``: reach another cluster by workload identity, not a Secret.

Flux 2.7's secret-less remote clusters: the ConfigMap (in the HelmRelease's namespace) holds
``provider``, ``address``, ``ca.crt``, ``audiences``, ``serviceAccountName`` and ``cluster``.
Tide does the ``generic`` provider, Kubernetes' own OIDC: it mints a short-lived token for the
ServiceAccount ``serviceAccountName`` (TokenRequest, audiences ``audiences`` — one a line — or
else ``address``) and connects to ``address`` with it, trusting ``ca.crt`` (else the system's
CAs). The remote cluster must trust this cluster's ServiceAccount issuer for those audiences.
The cloud providers (``aws``, ``azure``, ``gcp``) exchange that token with the cloud's STS,
which needs the cloud; they stall the release with a message saying so.
"""

from __future__ import annotations

import base64
from typing import Any

from tide.api import reasons
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.runtime.steps import Stalled, StepFailed

__all__ = ["TOKEN_SECONDS", "kubeconfig_for"]

TOKEN_SECONDS = 3600
"""Lifetime asked of each minted token; connections are rebuilt well before it ends."""
_CLOUD = ("aws", "azure", "gcp")


async def kubeconfig_for(
    config_map: dict[str, Any], *, client: KubeClient, namespace: str, where: str
) -> dict[str, Any]:
    """A kubeconfig (inline token) for the cluster ``config_map`` describes.

    Args:
        config_map: the ConfigMap ``spec.kubeConfig.configMapRef`` names.
        client: mints the token in this (the controller's) cluster.
        namespace: the HelmRelease's namespace, where the ServiceAccount lives.
        where: how messages name the ConfigMap.

    Raises:
        Stalled: the provider is not one Tide can use, or a required key is missing
            (``InitFailed``; nothing changes until the ConfigMap does).
        StepFailed: the token could not be minted (retried).
    """
    data = config_map.get("data") or {}
    provider = (data.get("provider") or "").strip()
    if provider in _CLOUD:
        raise Stalled(
            f"{where}: provider '{provider}' is not supported: it needs the cloud's token "
            "exchange; Tide supports the 'generic' provider (a ServiceAccount token for a "
            "cluster trusting this cluster's issuer) and spec.kubeConfig.secretRef",
            reason=reasons.INIT_FAILED,
        )
    if provider != "generic":
        raise Stalled(
            f"{where}: data.provider must be one of 'generic', 'aws', 'azure', 'gcp' "
            f"(got '{provider}')",
            reason=reasons.INIT_FAILED,
        )
    address = (data.get("address") or "").strip()
    if not address.startswith("https://"):
        raise Stalled(
            f"{where}: data.address must be the remote API server's https:// address for the "
            "'generic' provider",
            reason=reasons.INIT_FAILED,
        )
    account = (data.get("serviceAccountName") or "").strip()
    if not account:
        raise Stalled(
            f"{where}: data.serviceAccountName is required: Tide mints the token for a "
            "ServiceAccount in the HelmRelease's namespace, not for its own identity",
            reason=reasons.INIT_FAILED,
        )
    audiences = [line.strip() for line in (data.get("audiences") or "").splitlines()]
    audiences = [a for a in audiences if a] or [address]
    try:
        token = await client.create_token(
            account, namespace=namespace, audiences=audiences, expiration=TOKEN_SECONDS
        )
    except KubeError as error:  # no such ServiceAccount, no right to mint: the API's words
        raise StepFailed(
            f"{where}: cannot mint a token for ServiceAccount '{namespace}/{account}': {error}",
            reason=reasons.INIT_FAILED,
        ) from error
    cluster: dict[str, Any] = {"server": address}
    if data.get("ca.crt"):
        cluster["certificate-authority-data"] = base64.b64encode(data["ca.crt"].encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "remote", "cluster": cluster}],
        "users": [{"name": "remote", "user": {"token": token}}],
        "contexts": [{"name": "remote", "context": {"cluster": "remote", "user": "remote"}}],
        "current-context": "remote",
    }

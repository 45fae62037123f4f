"""Open a registry client with what an OCIRepository's (or ImageRepository's) Secrets say.

Both kinds name the same Secrets with the same fields: credentials, TLS, proxy.

Credentials come from ``spec.secretRef`` and, for the ``generic`` provider, the
``imagePullSecrets`` of ``spec.serviceAccountName``, first match per registry winning (as
Flux's ``k8schain``). A Secret named in the spec that does not exist is an error, never a
silent fall back to anonymous access.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tide.api.image import ImageRepository
from tide.api.meta import parse_duration
from tide.api.source import OCIRepository
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.source.oci.auth import (
    CredentialsError,
    RegistryCredentials,
    credentials_for,
    read_pull_secret,
)
from tide.source.oci.client import RegistryClient
from tide.source.oci.refs import Repository
from tide.source.oci.transport import (
    ProxyConfigError,
    TLSConfigError,
    TransportError,
    proxy_from_secret,
    tls_from_secret,
)

__all__ = ["connect"]


async def connect(
    kube: KubeClient,
    repo: OCIRepository | ImageRepository,
    repository: Repository,
    *,
    timeout: float | None = None,
    before_request: Callable[[], Awaitable[None]] | None = None,
) -> RegistryClient:
    """Return a client for ``repository`` set up as ``repo``'s spec asks.

    Args:
        kube: reads the Secrets and the ServiceAccount.
        repo: the object whose spec names them.
        repository: where to connect.
        timeout: seconds per call (default: ``spec.timeout``, which must then be set).
        before_request: see :class:`RegistryClient` (default: none).

    Raises:
        CredentialsError: ``secretRef``, the ServiceAccount or one of its pull secrets is
            missing or unreadable.
        TLSConfigError: ``certSecretRef`` is missing or unusable.
        ProxyConfigError: ``proxySecretRef`` is missing or unusable.
    """
    spec, namespace = repo.spec, repo.metadata.namespace or "default"
    configs: list[Mapping[str, RegistryCredentials]] = []
    if spec.secret_ref is not None:
        where = f"Secret '{namespace}/{spec.secret_ref.name}' (spec.secretRef)"
        secret = await _secret(kube, namespace, spec.secret_ref.name, where, CredentialsError)
        configs.append(read_pull_secret(secret, where=where))
    if spec.service_account_name:
        configs.extend(await _pull_secrets(kube, namespace, spec.service_account_name))
    tls = proxy = None
    if spec.cert_secret_ref is not None:
        where = f"Secret '{namespace}/{spec.cert_secret_ref.name}' (spec.certSecretRef)"
        secret = await _secret(kube, namespace, spec.cert_secret_ref.name, where, TLSConfigError)
        tls = tls_from_secret(secret.get("data") or {}, where=where)
    if spec.proxy_secret_ref is not None:
        where = f"Secret '{namespace}/{spec.proxy_secret_ref.name}' (spec.proxySecretRef)"
        secret = await _secret(kube, namespace, spec.proxy_secret_ref.name, where, ProxyConfigError)
        proxy = proxy_from_secret(secret.get("data") or {}, where=where)
    return RegistryClient(
        repository,
        credentials=credentials_for(repository.registry, configs),
        tls=tls,
        insecure=bool(spec.insecure),
        timeout=timeout if timeout is not None else parse_duration(spec.timeout or ""),
        proxy=proxy,
        before_request=before_request,
    )


async def _secret(
    kube: KubeClient,
    namespace: str,
    name: str,
    where: str,
    missing: type[CredentialsError] | type[TransportError],
) -> dict[str, Any]:
    found = await kube.get_or_none(resources.SECRET, name, namespace=namespace)
    if found is None:
        raise missing(f"{where} not found")
    return found


async def _pull_secrets(
    kube: KubeClient, namespace: str, account: str
) -> list[Mapping[str, RegistryCredentials]]:
    """Read the image pull secrets of a ServiceAccount, as Flux's ``generic`` provider does."""
    found = await kube.get_or_none(resources.SERVICE_ACCOUNT, account, namespace=namespace)
    if found is None:
        raise CredentialsError(
            f"ServiceAccount '{namespace}/{account}' (spec.serviceAccountName) not found"
        )
    configs: list[Mapping[str, RegistryCredentials]] = []
    for ref in found.get("imagePullSecrets") or []:
        name = ref.get("name", "")
        where = f"Secret '{namespace}/{name}' (imagePullSecrets of ServiceAccount '{account}')"
        secret = await _secret(kube, namespace, name, where, CredentialsError)
        configs.append(read_pull_secret(secret, where=where))
    return configs

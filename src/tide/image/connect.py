"""Open a registry client for an ImageRepository: its Secrets, its timeout, the shared budget.

The Secrets (``secretRef``, ``serviceAccountName``'s pull secrets, ``certSecretRef``,
``proxySecretRef``) are read by :func:`tide.source.oci.connect.connect`, as for an
OCIRepository; what differs is the timeout (``spec.timeout``, else ``spec.interval``) and the
per-registry request budget every call waits on.
"""

from __future__ import annotations

from tide.api import reasons
from tide.api.image import ImageRepository
from tide.api.meta import parse_duration
from tide.image.budget import RegistryBudget
from tide.kube.client import KubeClient
from tide.runtime.steps import StepFailed
from tide.source.oci import connect as oci_connect
from tide.source.oci.auth import CredentialsError
from tide.source.oci.client import RegistryClient
from tide.source.oci.refs import Repository
from tide.source.oci.transport import TransportError

__all__ = ["open_client", "timeout_of"]


def timeout_of(repo: ImageRepository) -> float:
    """Return the seconds a scan may take: ``spec.timeout``, else ``spec.interval``."""
    return parse_duration(repo.spec.timeout or repo.spec.interval)


async def open_client(
    kube: KubeClient, repo: ImageRepository, repository: Repository, budget: RegistryBudget
) -> RegistryClient:
    """Return a client for ``repository`` with ``repo``'s credentials, TLS and proxy.

    Raises:
        StepFailed: ``AuthenticationFailed`` when a Secret is missing or unusable (retried: the
            Secret may be created later); the message names the Secret, never its content.
    """
    try:
        return await oci_connect.connect(
            kube,
            repo,
            repository,
            timeout=timeout_of(repo),
            before_request=budget.gate(repository.api_host),
        )
    except (CredentialsError, TransportError) as error:
        raise StepFailed(
            f"failed to configure authentication options: {error}",
            reason=reasons.AUTHENTICATION_FAILED,
        ) from error

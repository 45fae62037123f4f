"""Read what an automation takes from its GitRepository: URL, credentials, proxy, timeout, ref.

Flux's automation has no Git settings of its own besides the branch: it clones with the
GitRepository's URL, ``secretRef`` credentials, ``proxySecretRef`` proxy and ``timeout``, and
checks out its ``ref`` unless ``spec.git.checkout.ref`` says otherwise.
"""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import dataclass
from typing import Any

from tide.api import reasons
from tide.api.image import ImageUpdateAutomation
from tide.api.meta import parse_duration
from tide.api.source import GitRepository
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import StepFailed, parse_object
from tide.source.git.auth import GitAuth, GitAuthError
from tide.source.git.refs import DEFAULT_BRANCH

__all__ = ["GitSource", "read_source"]


@dataclass(frozen=True, repr=False)
class GitSource:
    """The GitRepository an automation commits to, with its credentials loaded."""

    namespace: str
    name: str
    url: str
    auth: GitAuth | None
    proxy: str | None
    timeout: float
    ref: dict[str, str]
    """The GitRepository's ``spec.ref`` (empty: branch ``master``, as in Flux)."""

    def __repr__(self) -> str:  # the proxy URL may carry a password
        return f"GitSource({self.namespace}/{self.name})"

    @property
    def watched_branch(self) -> str | None:
        """The branch the GitRepository follows, if it follows one (not a tag or commit)."""
        if any(self.ref.get(key) for key in ("tag", "semver", "name", "commit")):
            return None
        return self.ref.get("branch") or DEFAULT_BRANCH


async def read_source(
    automation: ImageUpdateAutomation,
    *,
    client: KubeClient,
    cache: WatchCache,
    policy: ReferencePolicy,
) -> GitSource:
    """Find the GitRepository ``spec.sourceRef`` names and load its Secrets.

    Raises:
        AccessDenied: the reference leaves the namespace and the controller forbids that.
        StepFailed: the GitRepository or a Secret is missing or unusable
            (``InvalidSourceConfiguration``, ``AuthenticationFailed``).
    """
    ref = automation.spec.source_ref
    own = automation.metadata.namespace or "default"
    namespace = policy.resolve(own, kind="GitRepository", name=ref.name, namespace=ref.namespace)
    found = cache.get(namespace, ref.name)
    if found is None:
        raise StepFailed(
            f"referenced source GitRepository '{namespace}/{ref.name}' not found",
            reason=reasons.INVALID_SOURCE_CONFIGURATION,
        )
    repo = parse_object(GitRepository, found)
    spec = repo.spec
    auth = None
    if spec.secret_ref is not None:
        data = await _secret(client, namespace, spec.secret_ref.name, "spec.secretRef")
        where = f"Secret '{namespace}/{spec.secret_ref.name}' (GitRepository spec.secretRef)"
        try:
            auth = GitAuth.from_secret(data, url=spec.url, where=where)
        except GitAuthError as error:
            raise StepFailed(str(error), reason=reasons.AUTHENTICATION_FAILED) from error
    proxy = None
    if spec.proxy_secret_ref is not None:
        name = spec.proxy_secret_ref.name
        proxy = _proxy_url(await _secret(client, namespace, name, "spec.proxySecretRef"), name)
    git_ref = spec.ref.model_dump(by_alias=True) if spec.ref else {}
    return GitSource(
        namespace=namespace,
        name=ref.name,
        url=spec.url,
        auth=auth,
        proxy=proxy,
        timeout=parse_duration(spec.timeout),
        ref={k: v for k, v in git_ref.items() if v},
    )


async def _secret(client: KubeClient, namespace: str, name: str, field: str) -> dict[str, Any]:
    secret = await client.get_or_none(resources.SECRET, name, namespace=namespace)
    if secret is None:
        raise StepFailed(
            f"Secret '{namespace}/{name}' (GitRepository {field}) not found",
            reason=reasons.AUTHENTICATION_FAILED,
        )
    return secret.get("data") or {}


def _proxy_url(data: dict[str, Any], name: str) -> str:
    """Build a proxy URL from Flux's ``address``, ``username`` and ``password`` keys."""
    values = {k: base64.b64decode(v).decode() for k, v in data.items()}
    address = values.get("address")
    if not address:
        raise StepFailed(
            f"invalid proxy secret '{name}': key 'address' is missing",
            reason=reasons.INVALID_SOURCE_CONFIGURATION,
        )
    user = values.get("username")
    if not user:
        return address
    parsed = urllib.parse.urlsplit(address)
    secret = urllib.parse.quote(values.get("password", ""), safe="")
    netloc = f"{urllib.parse.quote(user, safe='')}:{secret}@{parsed.netloc}"
    return urllib.parse.urlunsplit(parsed._replace(netloc=netloc))

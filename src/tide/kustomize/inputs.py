"""Gather what a Kustomization reads besides its artifact: references, dependencies, keys.

Each function answers one question and fails with the reason Flux reports for it, so the
pipeline in :mod:`tide.kustomize.reconciler` stays a list of named steps.
"""

from __future__ import annotations

import base64
from typing import Any

from tide.api import reasons
from tide.api.kustomize import Kustomization
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kustomize.substitute import merge_variables
from tide.runtime import dependencies
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import StepFailed

__all__ = [
    "age_keys",
    "check_references",
    "dependency_cycle",
    "dependency_not_ready",
    "dependents",
    "substitution_variables",
]


def check_references(kustomization: Kustomization, policy: ReferencePolicy) -> None:
    """Refuse a ``sourceRef`` or ``dependsOn`` entry that leaves the namespace, if ``policy`` says.

    These are the Kustomization's only references that can name another namespace: every
    Secret and ConfigMap it reads (``decryption.secretRef``, ``postBuild.substituteFrom``,
    ``kubeConfig.secretRef``) is looked up in its own namespace, the CRD having no field for
    another, and ``healthChecks`` are read as the identity that applies (so RBAC decides).

    Raises:
        AccessDenied: naming the first reference that leaves the namespace.
    """
    own = kustomization.metadata.namespace or "default"
    spec = kustomization.spec
    reference = spec.source_ref
    policy.resolve(own, kind=reference.kind, name=reference.name, namespace=reference.namespace)
    for dependency in spec.depends_on or []:
        kind = dependency.kind or "Kustomization"
        policy.resolve(own, kind=kind, name=dependency.name, namespace=dependency.namespace)


def dependency_not_ready(
    kustomization: Kustomization,
    cache: WatchCache,
    helm_releases: WatchCache | None = None,
) -> str | None:
    """Return why the first unready ``dependsOn`` entry blocks us, or None when all are ready.

    The rule is :func:`tide.runtime.dependencies.dependency_not_ready`'s, shared with
    HelmReleases; an entry with ``kind: HelmRelease`` (a Tide extension) is looked up in
    ``helm_releases``.
    """
    start = (kustomization.metadata.namespace or "default", kustomization.metadata.name)
    spec = kustomization.spec.model_dump(by_alias=True, exclude_none=True)
    caches = {"Kustomization": cache, "HelmRelease": helm_releases}
    return dependencies.dependency_not_ready(start, spec, caches, kind="Kustomization")


def dependency_cycle(kustomization: Kustomization, cache: WatchCache) -> list[tuple[str, str]]:
    """Return a ``dependsOn`` path leading from ``kustomization`` back to itself, or ``[]``.

    Such a set can never become ready, so it is named rather than waited on forever. Entries
    not in the cache (yet) end a path; only cycles through ``kustomization`` are reported, so
    each member of a cycle reports it from its own place.
    """
    start = (kustomization.metadata.namespace or "default", kustomization.metadata.name)
    spec = kustomization.spec.model_dump(by_alias=True, exclude_none=True)
    return dependencies.dependency_cycle(start, spec, cache, kind="Kustomization")


def dependents(
    kustomization: Kustomization,
    cache: WatchCache,
    *,
    being_deleted: bool = False,
    policy: ReferencePolicy | None = None,
) -> list[tuple[str, str]]:
    """Return the Kustomizations that list ``kustomization`` in ``dependsOn``.

    Args:
        kustomization: the dependency.
        cache: where the Kustomizations are.
        being_deleted: only those that are being deleted themselves. Default: False.
        policy: leave out dependents whose reference ``policy`` blocks (another tenant's,
            under ``--no-cross-namespace-refs``), so they cannot hold up this deletion.
            Default: None (all count).
    """
    me = (kustomization.metadata.namespace or "default", kustomization.metadata.name)
    found = []
    for other in cache.scan():
        metadata = other["metadata"]
        if being_deleted and not metadata.get("deletionTimestamp"):
            continue
        namespace = metadata.get("namespace") or "default"
        if policy is not None and not policy.allows(namespace, me[0]):
            continue
        for dependency in (other.get("spec") or {}).get("dependsOn") or []:
            if dependency.get("kind", "Kustomization") != "Kustomization":
                continue
            if ((dependency.get("namespace") or namespace), dependency.get("name")) == me:
                found.append((namespace, metadata["name"]))
    return sorted(found)


async def substitution_variables(
    kustomization: Kustomization, client: KubeClient
) -> dict[str, str] | None:
    """Merge ``postBuild.substituteFrom`` (in order) under ``postBuild.substitute``.

    Returns None when the Kustomization asks for no substitution at all.

    Raises:
        StepFailed: a non-optional ConfigMap or Secret is missing (BuildFailed, as Flux).
    """
    post_build = kustomization.spec.post_build
    if post_build is None or not (post_build.substitute or post_build.substitute_from):
        return None
    namespace = kustomization.metadata.namespace or "default"
    sources: list[dict[str, str]] = []
    for reference in post_build.substitute_from or []:
        rt = resources.SECRET if reference.kind == "Secret" else resources.CONFIG_MAP
        found = await client.get_or_none(rt, reference.name, namespace=namespace)
        if found is None:
            if reference.optional:
                continue
            raise StepFailed(
                f"substitute from '{reference.kind}/{namespace}/{reference.name}' error: "
                f"{reference.kind.lower()} not found (postBuild.substituteFrom)",
                reason=reasons.BUILD_FAILED,
            )
        sources.append(_string_data(found, secret=reference.kind == "Secret"))
    return merge_variables(sources, dict(post_build.substitute or {}))


async def age_keys(kustomization: Kustomization, client: KubeClient) -> list[str]:
    """Return the age keys in ``decryption.secretRef`` (entries ending in ``.agekey``).

    Raises:
        StepFailed: the Secret is missing (DecryptionFailed); its content is never quoted.
    """
    decryption = kustomization.spec.decryption
    if decryption is None or decryption.secret_ref is None:
        return []
    namespace = kustomization.metadata.namespace or "default"
    name = decryption.secret_ref.name
    secret = await client.get_or_none(resources.SECRET, name, namespace=namespace)
    if secret is None:
        raise StepFailed(
            f"Secret '{namespace}/{name}' (spec.decryption.secretRef) not found",
            reason=reasons.DECRYPTION_FAILED,
        )
    data = _string_data(secret, secret=True)
    return [value.strip() for key, value in data.items() if key.endswith(".agekey")]


def _string_data(obj: dict[str, Any], *, secret: bool) -> dict[str, str]:
    if not secret:
        return {k: str(v) for k, v in (obj.get("data") or {}).items()}
    return {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}

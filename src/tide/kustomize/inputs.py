"""Gather what a Kustomization reads besides its source: dependencies, variables, keys.

Each function answers one question and fails with the reason Flux reports for it, so the
pipeline in :mod:`tide.kustomize.reconciler` stays a list of named steps.
"""

from __future__ import annotations

import base64
from typing import Any

from tide.api import conditions, reasons
from tide.api.kustomize import Kustomization
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kustomize.substitute import merge_variables
from tide.runtime.steps import StepFailed

__all__ = ["age_keys", "dependency_not_ready", "substitution_variables"]


def dependency_not_ready(kustomization: Kustomization, cache: WatchCache) -> str | None:
    """Return why the first unready ``dependsOn`` entry blocks us, or None when all are ready.

    A dependency is ready when its Ready condition is True for its current generation and the
    revision it last applied is the one it last attempted (it is not mid-way through a change).
    """
    own_namespace = kustomization.metadata.namespace or "default"
    for dependency in kustomization.spec.depends_on or []:
        namespace = dependency.namespace or own_namespace
        where = f"dependency '{namespace}/{dependency.name}'"
        other = cache.get(namespace, dependency.name)
        if other is None:
            return f"{where} not found"
        status = other.get("status") or {}
        ready = conditions.find(status, reasons.READY)
        current = ready is not None and ready.get("observedGeneration") == other["metadata"].get(
            "generation"
        )
        if not (current and ready and ready.get("status") == "True"):
            return f"{where} is not ready"
        if status.get("lastAppliedRevision") != status.get("lastAttemptedRevision"):
            return f"{where} is not ready: revision {status.get('lastAttemptedRevision')} pending"
    return None


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

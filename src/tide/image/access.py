"""May an ImagePolicy read an ImageRepository of another namespace? Flux's ``accessFrom`` ACL.

Two rules, checked in this order:

1. ``--no-cross-namespace-refs`` (:class:`~tide.runtime.acl.ReferencePolicy`): a reference out
   of the policy's namespace is refused outright; the object stalls until its spec changes.
2. The ImageRepository's ``spec.accessFrom.namespaceSelectors``: a policy in another namespace
   is let in only if that namespace's labels match one selector (``matchLabels: {}`` matches
   every namespace); no ``accessFrom`` means no other namespace. A refusal is retried with
   backoff, as in Flux, because labelling the namespace (which is not watched) can lift it.
"""

from __future__ import annotations

from collections.abc import Mapping

from tide.api import reasons
from tide.api.image import ImageRepository
from tide.runtime.steps import StepFailed

__all__ = ["check_access_from"]


def check_access_from(
    repo: ImageRepository, *, policy_namespace: str, namespace_labels: Mapping[str, str]
) -> None:
    """Refuse a policy in ``policy_namespace`` that ``repo``'s ``accessFrom`` does not admit.

    Raises:
        StepFailed: ``AccessDenied``, naming the repository and the namespace.
    """
    namespace = repo.metadata.namespace or "default"
    if namespace == policy_namespace:
        return
    selectors = repo.spec.access_from.namespace_selectors if repo.spec.access_from else []
    for selector in selectors:
        wanted = selector.match_labels or {}
        if all(namespace_labels.get(key) == value for key, value in wanted.items()):
            return
    why = (
        "its spec.accessFrom.namespaceSelectors match no label of that namespace"
        if selectors
        else "it has no spec.accessFrom"
    )
    raise StepFailed(
        f"failed to get the referred ImageRepository: access denied: ImageRepository "
        f"'{namespace}/{repo.metadata.name}' does not allow ImagePolicies from namespace "
        f"'{policy_namespace}': {why}",
        reason=reasons.ACCESS_DENIED,
    )

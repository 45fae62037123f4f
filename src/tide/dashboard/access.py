"""Who the dashboard's user is, and what they may do — asked of the API server itself.

The dashboard shows an action only where the user could do it from ``kubectl``: it asks with a
``SelfSubjectAccessReview`` (may I ``patch`` this kind in this namespace?), and learns the user's
name with a ``SelfSubjectReview`` (``kubectl auth whoami``) to record who asked. Answers are kept
for a short while, so a page of a thousand rows asks once per kind and namespace.
"""

from __future__ import annotations

import time

from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeUnavailable
from tide.kube.resources import ResourceType, resource_type

__all__ = ["SELF_SUBJECT_ACCESS_REVIEW", "SELF_SUBJECT_REVIEW", "Access"]

SELF_SUBJECT_ACCESS_REVIEW = ResourceType(
    "authorization.k8s.io",
    "v1",
    "SelfSubjectAccessReview",
    "selfsubjectaccessreviews",
    namespaced=False,
)
SELF_SUBJECT_REVIEW = ResourceType(
    "authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", namespaced=False
)

_KEEP = 30.0
"""Seconds an access answer is trusted (a RoleBinding granted meanwhile shows within this)."""


class Access:
    """The user's identity and rights, as the API server answers for the user's client.

    Args:
        client: the user's client.
    """

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._answers: dict[tuple[str, str, str], tuple[bool, float]] = {}
        self._user: str | None = None

    async def user(self) -> str:
        """Return the user's name (``kubectl auth whoami``); ``unknown`` if the server won't say."""
        if self._user is None:
            try:
                review = await self._client.create(SELF_SUBJECT_REVIEW, {"metadata": {}})
                info = (review.get("status") or {}).get("userInfo") or {}
                self._user = str(info.get("username") or "unknown")
            except KubeUnavailable:  # asked again once the server answers
                return "unknown"
            except KubeError:
                self._user = "unknown"
        return self._user

    async def may(self, verb: str, kind: str, namespace: str) -> bool:
        """Return whether the user may ``verb`` objects of Flux ``kind`` in ``namespace``."""
        key = (verb, kind, namespace)
        known = self._answers.get(key)
        if known is not None and time.monotonic() - known[1] < _KEEP:
            return known[0]
        rt = resource_type(kind)
        review = {
            "metadata": {},
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "group": rt.group,
                    "resource": rt.plural,
                    "namespace": namespace,
                }
            },
        }
        try:
            answer = await self._client.create(SELF_SUBJECT_ACCESS_REVIEW, review)
            allowed = bool((answer.get("status") or {}).get("allowed"))
        except KubeError:  # cannot even ask: show nothing the user might not do
            allowed = False
        self._answers[key] = (allowed, time.monotonic())
        return allowed

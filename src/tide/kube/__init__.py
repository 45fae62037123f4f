"""The one place that talks to the Kubernetes API server.

Everything above this package deals in JSON-shaped dicts and :mod:`tide.kube.errors`; the client
library (lightkube) is an implementation detail behind :class:`~tide.kube.client.KubeClient`.
"""

from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient, kubeconfig_contexts
from tide.kube.errors import (
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeGone,
    KubeInvalid,
    KubeNotFound,
    KubeUnavailable,
)
from tide.kube.resources import ResourceType

__all__ = [
    "KubeClient",
    "KubeConflict",
    "KubeError",
    "KubeForbidden",
    "KubeGone",
    "KubeInvalid",
    "KubeNotFound",
    "KubeUnavailable",
    "ResourceType",
    "WatchCache",
    "kubeconfig_contexts",
    "object_key",
]

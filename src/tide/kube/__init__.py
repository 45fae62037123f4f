"""The one place that talks to the Kubernetes API server.

Everything above this package deals in JSON-shaped dicts and :mod:`tide.kube.errors`; the client
library (lightkube) is an implementation detail behind :class:`~tide.kube.client.KubeClient`.
"""

from tide.kube import errors
from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient, kubeconfig_contexts
from tide.kube.errors import *  # noqa: F403  (the whole hierarchy, listed once in errors)
from tide.kube.resources import ResourceType

__all__ = [
    "KubeClient",
    "ResourceType",
    "WatchCache",
    "kubeconfig_contexts",
    "object_key",
    *errors.__all__,
]

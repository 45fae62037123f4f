"""The one place that talks to the Kubernetes API server.

Everything above this package deals in JSON-shaped dicts and :mod:`tide.kube.errors`; the client
library (lightkube) is an implementation detail behind :class:`~tide.kube.client.KubeClient`.
The package re-exports :mod:`tide.kube.errors` whole (its ``__all__``), so a new error is listed
once, where it is defined.
"""

from tide.kube import errors
from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient, kubeconfig_contexts
from tide.kube.errors import *  # noqa: F403  (errors.__all__ is the one list of them)
from tide.kube.resources import ResourceType

__all__ = [
    "KubeClient",
    "ResourceType",
    "WatchCache",
    "kubeconfig_contexts",
    "object_key",
    *errors.__all__,
]

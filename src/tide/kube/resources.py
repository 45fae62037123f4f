"""Name Kubernetes resource types without tying callers to the client library's classes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tide.api.kinds import KINDS

__all__ = [
    "CONFIG_MAP",
    "CRD",
    "DEPLOYMENT",
    "EVENT",
    "LEASE",
    "NAMESPACE",
    "POD",
    "SECRET",
    "SERVICE_ACCOUNT",
    "ResourceType",
    "resource_type",
]


@dataclass(frozen=True)
class ResourceType:
    """Where a kind lives in the API: group, version, kind, plural and scope."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """Return ``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        return f"{self.kind}.{self.group or 'core'}/{self.version}"


LEASE = ResourceType("coordination.k8s.io", "v1", "Lease", "leases")
EVENT = ResourceType("", "v1", "Event", "events")
SECRET = ResourceType("", "v1", "Secret", "secrets")
CONFIG_MAP = ResourceType("", "v1", "ConfigMap", "configmaps")
SERVICE_ACCOUNT = ResourceType("", "v1", "ServiceAccount", "serviceaccounts")
NAMESPACE = ResourceType("", "v1", "Namespace", "namespaces", namespaced=False)
DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")
"""The controllers' own workloads, which the installer and ``tide logs`` read."""
POD = ResourceType("", "v1", "Pod", "pods")
CRD = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    namespaced=False,
)


@cache
def resource_type(kind: str) -> ResourceType:
    """Return where the Flux ``kind`` Tide serves lives, read from :data:`tide.api.kinds.KINDS`.

    The registry declares each kind's group, storage version and plural once; controllers ask
    here instead of restating them.

    Raises:
        KeyError: ``kind`` is not one of the kinds Tide serves.
    """
    for info in KINDS:
        if info.kind == kind:
            return ResourceType(info.group, info.version, info.kind, info.plural)
    raise KeyError(f"unknown Flux kind {kind!r}")

"""Server-side apply of object sets: staged apply, drift detection, pruning and health checks.

What the Kustomization reconciler (and the HelmRelease one) needs from the cluster, modelled on
fluxcd/pkg ``ssa``: a :class:`ResourceManager` whose results are a :class:`ChangeSet`.
"""

from tide.kube.ssa.changeset import Action, ChangeSet, ChangeSetEntry, ObjectRef, object_id
from tide.kube.ssa.manager import ResourceManager
from tide.kube.ssa.options import ManagerOptions
from tide.kube.ssa.wait import Health, Readiness, readiness

__all__ = [
    "Action",
    "ChangeSet",
    "ChangeSetEntry",
    "Health",
    "ManagerOptions",
    "ObjectRef",
    "Readiness",
    "ResourceManager",
    "object_id",
    "readiness",
]

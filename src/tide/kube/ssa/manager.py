"""One entry point for applying, diffing, waiting on and deleting sets of objects.

Like fluxcd/pkg's ``ssa.ResourceManager``: the verbs live in their own modules
(:mod:`~tide.kube.ssa.apply`, :mod:`~tide.kube.ssa.diff`, :mod:`~tide.kube.ssa.wait`,
:mod:`~tide.kube.ssa.delete`); this class holds what they share.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.ssa import apply, delete, wait
from tide.kube.ssa.changeset import ChangeSet
from tide.kube.ssa.options import ManagerOptions

__all__ = ["ResourceManager"]


class ResourceManager:
    """Apply, prune and health-check the objects one owner (e.g. a Kustomization) manages.

    Args:
        client: the API client; its write counter also counts this manager's writes.
        mapper: resolves each manifest's kind (shared, so discovery is cached across owners).
        field_manager: the SSA field manager recorded in ``managedFields``.
        owner_labels: labels put on every applied object and required on every pruned one, e.g.
            the Kustomization name and namespace labels.
        options: the per-object annotations obeyed. Default: none (every object applied and
            pruned as it is).
    """

    def __init__(
        self,
        client: KubeClient,
        mapper: RESTMapper,
        field_manager: str,
        owner_labels: Mapping[str, str],
        options: ManagerOptions | None = None,
    ) -> None:
        if client.field_manager != field_manager:
            # KubeClient applies as its own field manager; a shallow copy shares its connection
            # and its write counter but applies as ours.
            client = copy.copy(client)
            client.field_manager = field_manager
        self.client = client
        self.mapper = mapper
        self.field_manager = field_manager
        self.owner_labels = dict(owner_labels)
        self.options = options or ManagerOptions()

    async def apply_all(
        self,
        objects: Sequence[Mapping[str, Any]],
        *,
        force: bool = False,
        all_or_nothing: bool = False,
    ) -> ChangeSet:
        """Apply ``objects`` in Flux's stages and return what happened to each.

        Unchanged objects are not written. Per-object annotations, under the keys
        :class:`ManagerOptions` names: ``ssa: Ignore`` and ``reconcile: disabled`` skip the
        object; ``ssa: IfNotPresent`` only creates it; ``ssa: Merge``/``Override`` apply it
        (Tide never strips other managers' fields, so the two behave alike); ``force: enabled``
        (or ``force=True``) recreates an object whose immutable fields changed.

        Args:
            objects: manifests (JSON-shaped dicts); not modified.
            force: recreate objects whose immutable fields changed. Default: False.
            all_or_nothing: dry-run each stage first and write nothing from it (or from later
                stages) when the API server refuses any object, as Flux does. Default: False —
                a failure is recorded on its entry with the API server's message and the other
                objects are still applied.
        """
        return await apply.apply_all(self, objects, force=force, all_or_nothing=all_or_nothing)

    async def delete_all(
        self,
        entries: Sequence[Mapping[str, str]],
    ) -> ChangeSet:
        """Delete the objects inventory ``entries`` (``{"id", "v"}``) name.

        Objects already gone are left out of the result; objects annotated
        ``<prune_annotation>: disabled`` (:class:`ManagerOptions`) or no longer carrying this
        manager's owner labels are ``skipped``. Deletion uses the API server's default
        propagation, which is background for every built-in kind that owns others
        (Deployments, Jobs…).
        """
        return await delete.delete_all(self, entries)

    async def wait_deleted(self, deleted: ChangeSet, timeout: float) -> list[str]:
        """Wait until what ``deleted`` deleted is gone; return the subjects still present."""
        return await delete.wait_deleted(self, deleted, timeout=timeout)

    async def wait(
        self,
        objects: Sequence[Mapping[str, Any]],
        timeout: float,
        *,
        judge: wait.Judge | None = None,
        stop: Callable[[], str | None] | None = None,
    ) -> list[str]:
        """Wait for ``objects`` to be ready (kstatus); return ``"Kind/ns/name: why"`` per straggler.

        Args:
            objects: manifests or live objects (only identity is read; state is fetched).
            timeout: seconds before giving up on the ones not ready.
            judge: custom rules deciding for the objects they cover (``healthCheckExprs``).
            stop: asked before each look; a reason ends the wait with ``WaitCanceled``.
        """
        return await wait.wait_for(self, objects, timeout=timeout, judge=judge, stop=stop)

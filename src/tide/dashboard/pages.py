"""What the pages read and do, across the contexts served: the JSON behind each page.

Rows carry the context they come from; an object's page, its diff and its graph are read from
that context's mirrors, and its events from that context's API server, as that context's user.
A context that does not answer is listed with why (:attr:`tide.dashboard.clusters.Cluster.error`)
and the others are shown as usual.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api.kinds import KINDS
from tide.artifacts import ArtifactFetchError, fetch_artifact
from tide.dashboard import graph, views
from tide.dashboard.actions import SOURCED
from tide.dashboard.clusters import Cluster, Fleet
from tide.inspect import diff, inventory, requests, rows, why
from tide.inspect.local_build import LocalBuildError
from tide.kube import resources
from tide.kube.errors import KubeError

__all__ = ["Dashboard"]

_HAS_STATUS = {info.kind: info.has_status for info in KINDS}


@dataclass
class Dashboard:
    """What the pages read and do, for one user's contexts."""

    fleet: Fleet

    async def diff(self, context: str | None, namespace: str, name: str) -> dict[str, Any]:
        """Return what applying a Kustomization's current artifact would change, or why not.

        The artifact its source serves is fetched (digest checked) and built and dry-run as
        ``tide diff`` does (:func:`tide.inspect.diff.changes_for`), Secret values masked.

        Raises:
            UnknownContext: ``context`` is not served.
        """
        cluster = self.fleet.get(context)
        obj = cluster.model.get("Kustomization", name, namespace)
        if obj is None:
            return {"error": f"Kustomization/{namespace}/{name} not found"}
        source = requests.source_of("Kustomization", obj)
        source_obj = cluster.model.get(*source) if source is not None else None
        artifact = ((source_obj or {}).get("status") or {}).get("artifact") or {}
        if not artifact.get("url"):
            return {"error": "its source has no artifact yet"}
        with tempfile.TemporaryDirectory(prefix="tide-dashboard-") as scratch:
            root = Path(scratch) / "artifact"
            try:
                await fetch_artifact(artifact["url"], artifact.get("digest", ""), root)
                folder = root / str((obj.get("spec") or {}).get("path") or "./")
                changes = await diff.changes_for(cluster.dry_run, obj, folder, root=root)
            except (ArtifactFetchError, LocalBuildError, KubeError, OSError) as error:
                return {"error": str(error), "revision": artifact.get("revision", "")}
        return {"changes": changes, "revision": artifact.get("revision", "")}

    async def _offered(self, cluster: Cluster, kind: str, obj: Mapping[str, Any]) -> list[str]:
        # A server that does not answer is not asked (each question could wait its timeout);
        # what it last showed stays listed, with no buttons.
        return [] if cluster.error else await cluster.actions.offered(kind, obj)

    async def _rows(self, cluster: Cluster, kind: str) -> list[dict[str, Any]]:
        listed = []
        for obj in cluster.model.objects(kind):
            shown = views.row(kind, obj, has_status=_HAS_STATUS[kind])
            shown["context"] = cluster.name
            shown["actions"] = await self._offered(cluster, kind, obj)
            listed.append(shown)
        return listed

    async def contexts(self) -> list[dict[str, Any]]:
        """Return each context served: its name, server, user, and why it does not answer."""
        shown = []
        for name in self.fleet.names:
            error = self.fleet.error_of(name)
            cluster = self.fleet.clusters.get(name)
            user = await cluster.access.user() if cluster is not None and not error else ""
            server = cluster.server if cluster is not None else ""
            shown.append({"name": name, "server": server, "user": user, "error": error})
        return shown

    async def overview(self) -> dict[str, Any]:
        """Return every Flux object's row with its actions, and the counts per kind: in total,
        and per context."""
        contexts = await self.contexts()
        by_kind: dict[str, list[dict[str, Any]]] = {info.kind: [] for info in KINDS}
        syncing = []
        for entry in contexts:
            cluster = self.fleet.clusters.get(entry["name"])
            own: dict[str, list[dict[str, Any]]] = {}
            if cluster is not None:
                for info in KINDS:
                    own[info.kind] = await self._rows(cluster, info.kind)
                    by_kind[info.kind] += own[info.kind]
                if not entry["error"]:
                    syncing += [(kind, cluster.name) for kind in cluster.model.syncing()]
            entry["summary"] = views.summary(own)
            entry["counts"] = views.tally(each for listed in own.values() for each in listed)
        several = len(contexts) > 1
        return {
            "user": _users(contexts),
            "version": self.fleet.pulse.version,
            "syncing": [f"{kind} ({context})" if several else kind for kind, context in syncing],
            "contexts": contexts,
            "summary": views.summary(by_kind),
            "rows": [each for listed in by_kind.values() for each in listed],
        }

    async def listing(self, kind: str) -> dict[str, Any]:
        """Return the rows of one kind, from every context, with Flux's columns."""
        listed = []
        for cluster in self.fleet:
            listed += await self._rows(cluster, kind)
        columns = [c for c in rows.columns_for(kind) if c not in ("NAME", "SUSPENDED")]
        return {
            "kind": kind,
            "columns": columns,
            "rows": listed,
            "contexts": self.fleet.names,
        }

    async def _events(self, cluster: Cluster, kind: str, obj: dict[str, Any]) -> list[dict]:
        if cluster.error:
            return []
        metadata = obj["metadata"]
        about = {"involvedObject.kind": kind, "involvedObject.name": metadata["name"]}
        try:
            listed, _ = await cluster.client.list(
                resources.EVENT, namespace=metadata["namespace"], fields=about
            )
        except KubeError:  # the user may not list events (or the server is away): none shown
            return []
        return listed

    async def detail(
        self, context: str | None, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """Return one object's page, or None when it is not (or no longer) there.

        Raises:
            UnknownContext: ``context`` is not served.
        """
        cluster = self.fleet.get(context)
        model = cluster.model
        obj = model.get(kind, name, namespace)
        if obj is None:
            return None
        consumer = kind in SOURCED
        source = requests.source_of(kind, obj) if consumer else None
        chain = views.chain_of(
            kind, obj, (*source, model.get(*source)) if source is not None else None
        )
        nodes = await inventory.tree_of(model.fetch, obj) if consumer else ()
        links = []
        if _HAS_STATUS[kind]:
            links = await why.explain(model.fetch, kind, name, namespace)
        events = await self._events(cluster, kind, obj)
        shown = views.detail(kind, obj, events=events, chain=chain, nodes=nodes, links=links)
        shown["row"]["context"] = cluster.name
        shown["row"]["actions"] = await self._offered(cluster, kind, obj)
        shown["spec"] = obj.get("spec") or {}
        shown["context"] = {"name": cluster.name, "error": cluster.error}
        shown["several"] = len(self.fleet.names) > 1
        return shown

    def graph_svg(self, context: str | None) -> str:
        """Return one context's graph of sources, Kustomizations and HelmReleases as SVG.

        Raises:
            UnknownContext: ``context`` is not served.
        """
        cluster = self.fleet.get(context)
        drawn = graph.build({kind: cluster.model.objects(kind) for kind in graph.GRAPH_KINDS})
        graph.layout(drawn)
        return graph.render(drawn, context=cluster.name)


def _users(contexts: list[Mapping[str, Any]]) -> str:
    """Name the user: one name when every context answering has the same, else each's."""
    users = {entry["name"]: entry["user"] for entry in contexts if entry["user"]}
    if len(set(users.values())) <= 1:
        return next(iter(users.values()), "")
    return ", ".join(f"{user} ({context})" for context, user in users.items())

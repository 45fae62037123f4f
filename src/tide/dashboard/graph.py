"""The graph of sources, Kustomizations and HelmReleases, laid out here and drawn as SVG.

Hand-written because it is small and the page must load nothing from elsewhere: a layered
(Sugiyama-style) layout — each object one column right of the deepest thing it needs (its
source, its chart, what it ``dependsOn``), then a few sweeps ordering each column by the mean
row of its predecessors to uncross edges — and an SVG with one box per object, coloured by
state, each a link to the object's page. Edges come from :func:`tide.inspect.why.links_of`, the
same relations ``tide why`` follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from tide.dashboard import views
from tide.inspect import why

__all__ = ["GRAPH_KINDS", "Edge", "Graph", "GraphNode", "build", "layout", "render"]

GRAPH_KINDS = (
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "HelmRepository",
    "ExternalArtifact",
    "HelmChart",
    "Kustomization",
    "HelmRelease",
)
"""The kinds drawn, sources first."""

_WIDTH, _HEIGHT, _GAP_X, _GAP_Y, _MARGIN = 230, 46, 70, 16, 12
_SWEEPS = 4


@dataclass
class GraphNode:
    """One object of the graph, and where the layout put it."""

    kind: str
    namespace: str
    name: str
    state: str
    """One of :data:`tide.dashboard.views.STATES`, or ``missing``."""
    layer: int = 0
    order: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        """Return ``(kind, namespace, name)``."""
        return self.kind, self.namespace, self.name


@dataclass(frozen=True)
class Edge:
    """``needed`` is needed by ``needer``: a source, a chart, or a ``dependsOn``."""

    needed: tuple[str, str, str]
    needer: tuple[str, str, str]
    relation: str


@dataclass
class Graph:
    """Nodes by key and the edges between them."""

    nodes: dict[tuple[str, str, str], GraphNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    routes: dict[int, list[GraphNode]] = field(default_factory=dict)
    """Per edge (by index) spanning several columns, the waypoints :func:`layout` placed in
    the columns between, so a long edge runs in a lane of its own instead of through boxes."""


def build(objects: Mapping[str, Sequence[Mapping[str, Any]]]) -> Graph:
    """Return the graph of ``objects`` (by kind); a needed object that is absent is ``missing``."""
    graph = Graph()
    for kind in GRAPH_KINDS:
        for obj in objects.get(kind, ()):
            metadata = obj.get("metadata") or {}
            node = GraphNode(
                kind, metadata.get("namespace", ""), metadata["name"], views.state(obj)
            )
            graph.nodes[node.key] = node
    for kind in GRAPH_KINDS:
        for obj in objects.get(kind, ()):
            metadata = obj.get("metadata") or {}
            needer = (kind, metadata.get("namespace", ""), metadata["name"])
            for relation, need_kind, name, namespace in why.links_of(kind, obj):
                needed = (need_kind, namespace, name)
                if needed not in graph.nodes:
                    graph.nodes[needed] = GraphNode(need_kind, namespace, name, "missing")
                graph.edges.append(Edge(needed, needer, relation))
    return graph


def _depths(graph: Graph) -> dict[tuple[str, str, str], int]:
    """Return each node's longest path from a node that needs nothing (cycles cut)."""
    needs: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {k: [] for k in graph.nodes}
    for edge in graph.edges:
        needs[edge.needer].append(edge.needed)
    depth: dict[tuple[str, str, str], int] = {}

    def depth_of(key: tuple[str, str, str], visiting: frozenset[tuple[str, str, str]]) -> int:
        if key not in depth:
            inner = visiting | {key}
            below = [depth_of(n, inner) for n in needs[key] if n not in inner]
            depth[key] = 1 + max(below) if below else 0
        return depth[key]

    return {key: depth_of(key, frozenset()) for key in graph.nodes}


def _rank(node: GraphNode) -> tuple[int, str, str]:
    return (GRAPH_KINDS.index(node.kind) if node.kind in GRAPH_KINDS else 99, node.namespace,
            node.name)  # fmt: skip


def layout(graph: Graph) -> None:
    """Set each node's ``layer`` (longest path from what needs nothing) and ``order``.

    Edges spanning several columns get waypoints in the columns between (:attr:`Graph.routes`),
    ordered with the nodes, as Sugiyama's dummy vertices are.
    """
    for key, depth in _depths(graph).items():
        graph.nodes[key].layer = depth
    predecessors: dict[int, list[GraphNode]] = {}
    columns: dict[int, list[GraphNode]] = {}
    for node in sorted(graph.nodes.values(), key=_rank):
        columns.setdefault(node.layer, []).append(node)
    graph.routes = {}
    for index, edge in enumerate(graph.edges):
        needed, needer = graph.nodes[edge.needed], graph.nodes[edge.needer]
        hops = [needed]
        for layer in range(needed.layer + 1, needer.layer):
            waypoint = GraphNode("", "", f"~{index}", "waypoint", layer=layer)
            columns[layer].append(waypoint)
            predecessors.setdefault(id(waypoint), []).append(hops[-1])
            hops.append(waypoint)
        if len(hops) > 1:
            graph.routes[index] = hops[1:]
        predecessors.setdefault(id(needer), []).append(hops[-1])
    for column in columns.values():
        for row, node in enumerate(column):
            node.order = float(row)
    for _ in range(_SWEEPS):
        for layer in sorted(columns)[1:]:
            column = columns[layer]
            for node in column:
                rows = [p.order for p in predecessors.get(id(node), ()) if p.layer < layer]
                node.order = sum(rows) / len(rows) if rows else node.order
            column.sort(key=lambda n: n.order)
            for row, node in enumerate(column):
                node.order = float(row)


def _box(node: GraphNode) -> tuple[int, int]:
    return (
        _MARGIN + node.layer * (_WIDTH + _GAP_X),
        _MARGIN + int(node.order) * (_HEIGHT + _GAP_Y),
    )


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _route(graph: Graph, index: int, edge: Edge) -> str:
    """Return the path of one edge: out of its source's right side, through its waypoints'
    lanes, into its target's left side, bending between columns."""
    x, y = _box(graph.nodes[edge.needed])
    x, y = x + _WIDTH, y + _HEIGHT // 2
    path = [f"M{x},{y}"]
    for waypoint in (*graph.routes.get(index, ()), graph.nodes[edge.needer]):
        x2, y2 = _box(waypoint)
        y2 += _HEIGHT // 2
        bend = (x2 - x) / 2
        path.append(f"C{x + bend},{y} {x2 - bend},{y2} {x2},{y2}")
        x, y = x2, y2
        if waypoint.state == "waypoint":
            x += _WIDTH
            path.append(f"L{x},{y}")
    return " ".join(path)


def render(graph: Graph, *, context: str = "") -> str:
    """Return the graph as an SVG document (call :func:`layout` first).

    Each box links to its object's page, in ``context`` when one is named (the graph of one
    kubeconfig context among several).
    """
    if not graph.nodes:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>'
    placed = [*graph.nodes.values(), *(w for route in graph.routes.values() for w in route)]
    width = max(_box(n)[0] for n in placed) + _WIDTH + _MARGIN
    height = max(_box(n)[1] for n in placed) + _HEIGHT + _MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for index, edge in enumerate(graph.edges):
        style = "depends" if edge.relation == "depends on" else "source"
        parts.append(
            f'<path class="edge {style}" d="{_route(graph, index, edge)}">'
            f"<title>{escape(edge.relation)}</title></path>"
        )
    for node in graph.nodes.values():
        x, y = _box(node)
        parts_of = (context, node.kind, node.namespace, node.name) if context else node.key
        href = "#/object/" + "/".join(quote(part, safe="") for part in parts_of)
        title = f"{node.kind}/{node.namespace}/{node.name}: {node.state}"
        parts.append(
            f'<a href={quoteattr(href)} class="node {node.state}" data-ref={quoteattr(title)}>'
            f"<title>{escape(title)}</title>"
            f'<rect x="{x}" y="{y}" width="{_WIDTH}" height="{_HEIGHT}" rx="6"/>'
            f'<text x="{x + 10}" y="{y + 19}" class="name">{escape(_short(node.name))}</text>'
            f'<text x="{x + 10}" y="{y + 36}" class="kind">'
            f"{escape(_short(f'{node.kind} · {node.namespace}', 36))}</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)

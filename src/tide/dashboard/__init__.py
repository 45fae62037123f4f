"""The web dashboard ``tide dashboard`` serves: Flux objects, live, as the user sees them.

Every context of the user's kubeconfig is served (:mod:`clusters`), each through its own
credentials: a read model over watches per context (:mod:`model`) feeds pages drawn from plain
data (:mod:`pages`, :mod:`views`, :mod:`graph`); actions go to the object's own cluster through
that context's RBAC (:mod:`access`, :mod:`actions`); the server (:mod:`server`) serves the page
and its assets itself, so nothing loads from elsewhere.
"""

from tide.dashboard.access import SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_REVIEW, Access
from tide.dashboard.actions import ACTIONS, SOURCED, ActionRefused, Actions
from tide.dashboard.clusters import Cluster, Fleet, UnknownContext
from tide.dashboard.graph import GRAPH_KINDS, Edge, Graph, GraphNode, build, layout, render
from tide.dashboard.model import Pulse, ReadModel
from tide.dashboard.pages import Dashboard
from tide.dashboard.server import running
from tide.dashboard.views import STATES, chain_of, detail, row, state, summary, tally, tree

__all__ = [
    "ACTIONS",
    "GRAPH_KINDS",
    "SELF_SUBJECT_ACCESS_REVIEW",
    "SELF_SUBJECT_REVIEW",
    "SOURCED",
    "STATES",
    "Access",
    "ActionRefused",
    "Actions",
    "Cluster",
    "Dashboard",
    "Edge",
    "Fleet",
    "Graph",
    "GraphNode",
    "Pulse",
    "ReadModel",
    "UnknownContext",
    "build",
    "chain_of",
    "detail",
    "layout",
    "render",
    "row",
    "running",
    "state",
    "summary",
    "tally",
    "tree",
]

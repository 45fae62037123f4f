"""The web dashboard ``tide dashboard`` serves: Flux objects, live, as the user sees them.

A read model over watches (:mod:`model`) feeds pages drawn from plain data (:mod:`views`,
:mod:`graph`); actions go through the user's own RBAC (:mod:`access`, :mod:`actions`); the
server (:mod:`server`) serves the page and its assets itself, so nothing loads from elsewhere.
"""

from tide.dashboard.access import SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_REVIEW, Access
from tide.dashboard.actions import ACTIONS, SOURCED, ActionRefused, Actions
from tide.dashboard.graph import GRAPH_KINDS, Edge, Graph, GraphNode, build, layout, render
from tide.dashboard.model import ReadModel
from tide.dashboard.server import Dashboard, running
from tide.dashboard.views import STATES, chain_of, detail, row, state, summary, tree

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
    "Dashboard",
    "Edge",
    "Graph",
    "GraphNode",
    "ReadModel",
    "build",
    "chain_of",
    "detail",
    "layout",
    "render",
    "row",
    "running",
    "state",
    "summary",
    "tree",
]

"""Read Flux objects the way users ask about them, for the ``tide`` command and the dashboard.

Pure-ish logic shared by both faces: the rows of ``get`` (:mod:`rows`), the root-cause chain of
``why`` (:mod:`why`), inventories as trees (:mod:`inventory`), and the requests ``reconcile``,
``suspend`` and ``resume`` write (:mod:`requests`), and what applying a folder would change
(:mod:`local_build`, :mod:`diff`). Nothing here prints or serves; reads go through a ``fetch``
callable or a client the caller owns.
"""

from tide.inspect.ages import age, event_time
from tide.inspect.diff import changes_for, masked, subject, unified
from tide.inspect.inventory import EXPANDED, Node, entries_of, tree_of
from tide.inspect.local_build import LocalBuildError, build_folder, parse_kustomization
from tide.inspect.requests import (
    UNRECONCILED,
    Suspended,
    now,
    request_reconcile,
    set_suspend,
    source_of,
    suspendable,
)
from tide.inspect.rows import Row, StatusSelector, columns_for, row_of, table_cells
from tide.inspect.why import Fetch, Link, explain, links_of, state_of

__all__ = [
    "EXPANDED",
    "UNRECONCILED",
    "Fetch",
    "Link",
    "LocalBuildError",
    "Node",
    "Row",
    "StatusSelector",
    "Suspended",
    "age",
    "build_folder",
    "changes_for",
    "columns_for",
    "entries_of",
    "event_time",
    "explain",
    "links_of",
    "masked",
    "now",
    "parse_kustomization",
    "request_reconcile",
    "row_of",
    "set_suspend",
    "source_of",
    "state_of",
    "subject",
    "suspendable",
    "table_cells",
    "tree_of",
    "unified",
]

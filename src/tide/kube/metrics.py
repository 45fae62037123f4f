"""What Tide's API traffic looks like, under the names client-go gives it.

Dashboards built for Flux's controllers read ``rest_client_requests_total``; Tide's controllers
export the same series, so the API load of a reconcile can be compared like for like (and the
benchmarks in ``bench/`` read it).
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["DRY_RUNS", "REQUESTS"]

REQUESTS = Counter(
    "rest_client_requests_total",
    "API server replies, by status code, method and host.",
    ["code", "method", "host"],
)
DRY_RUNS = Counter(
    "tide_api_dry_run_requests_total",
    "Requests sent with dryRun=All (counted in rest_client_requests_total too), by method; "
    "subtract them to get the writes that changed something.",
    ["method"],
)

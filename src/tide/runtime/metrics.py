"""Prometheus metrics, with the names Flux and controller-runtime dashboards already chart."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ACTIVE_WORKERS",
    "RECONCILE_DURATION",
    "RECONCILE_ERRORS",
    "RECONCILE_TIME",
    "RECONCILE_TOTAL",
    "SUSPEND_STATUS",
    "TERMINAL_ERRORS",
    "WORKQUEUE_ADDS",
    "WORKQUEUE_DEPTH",
    "WORKQUEUE_RETRIES",
]

RECONCILE_DURATION = Histogram(
    "gotk_reconcile_duration_seconds",
    "How long one reconcile of a Flux object took, in seconds.",
    ["kind", "name", "namespace"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
SUSPEND_STATUS = Gauge(
    "gotk_suspend_status",
    "1 while an object's spec.suspend is true.",
    ["kind", "name", "namespace"],
)
RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total",
    "Reconciles per controller, by result (success, error, requeue, requeue_after).",
    ["controller", "result"],
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total",
    "Reconciles that ended in an error, per controller.",
    ["controller"],
)
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Time per reconcile, per controller.",
    ["controller"],
)
TERMINAL_ERRORS = Counter(
    "controller_runtime_terminal_reconcile_errors_total",
    "Reconciles that ended in an error retrying cannot fix, per controller.",
    ["controller"],
)
ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers",
    "Workers reconciling right now, per controller.",
    ["controller"],
)
WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Items waiting in the queue.", ["name"])
WORKQUEUE_ADDS = Counter("workqueue_adds_total", "Items added to the queue.", ["name"])
WORKQUEUE_RETRIES = Counter("workqueue_retries_total", "Items re-added after a failure.", ["name"])

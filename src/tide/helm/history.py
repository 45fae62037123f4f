"""``status.history``: snapshots of the release revisions Tide made, newest first, as Flux keeps.

A snapshot is rebuilt from Helm's storage after every action, so it says what Helm recorded
(status, times, chart) and not what the controller hoped for. Rebuilding it when nothing
happened gives the same snapshot, so an idle reconcile leaves the history, and the status,
untouched.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tide.helm.sdk import Release
from tide.helm.values import config_digest

__all__ = ["MAX_SNAPSHOTS", "record", "snapshot"]

MAX_SNAPSHOTS = 5
"""Snapshots kept in ``status.history``."""


def _seconds(stamp: str) -> str:
    """Helm's nanosecond RFC 3339 time as Kubernetes writes times (whole seconds, ``Z``)."""
    if not stamp:
        return stamp
    head = stamp.split(".")[0].rstrip("Z")
    return f"{head[:19]}Z"


def snapshot(release: Release) -> dict[str, Any]:
    """Return the ``status.history`` entry for one stored revision."""
    fields = {
        "name": release.name,
        "namespace": release.namespace,
        "version": release.version,
        "status": release.status,
        "chartName": release.chart_name,
        "chartVersion": release.chart_version,
        "appVersion": release.app_version,
        "configDigest": config_digest(release.config),
        "firstDeployed": _seconds(release.first_deployed),
        "lastDeployed": _seconds(release.last_deployed),
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    entry = {
        "apiVersion": "v2",
        "digest": f"sha256:{hashlib.sha256(canonical.encode()).hexdigest()}",
        **fields,
    }
    del entry["appVersion"]  # not a Snapshot field; it only feeds the digest
    hooks = {
        name: {
            "lastStarted": _seconds(run["started_at"]),
            "lastCompleted": _seconds(run["completed_at"]),
            "phase": run["phase"],
        }
        for name, run in sorted(release.test_hooks.items())
        if run.get("started_at")
    }
    if hooks:
        entry["testHooks"] = {
            name: {key: value for key, value in hook.items() if value}
            for name, hook in hooks.items()
        }
    return entry


def record(status: dict[str, Any], entry: dict[str, Any]) -> None:
    """Put ``entry`` first in ``status.history`` (replacing the same revision), keep 5."""
    history = [
        h
        for h in status.get("history") or []
        if (h.get("name"), h.get("namespace"), h.get("version"))
        != (entry["name"], entry["namespace"], entry["version"])
    ]
    status["history"] = [entry, *history][:MAX_SNAPSHOTS]

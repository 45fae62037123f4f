"""What each page shows, as plain data: objects in, JSON-ready dictionaries out.

Pure, so what a page says is unit-tested without a cluster or a browser. The states are the
four a dashboard user sorts by — ``ready``, ``failing``, ``suspended``, ``progressing`` — read
the way ``tide why`` reads them (:func:`tide.inspect.why.state_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tide.inspect import ages, inventory, rows, why

__all__ = ["STATES", "chain_of", "detail", "row", "state", "summary", "tally", "tree"]

STATES = ("ready", "failing", "suspended", "progressing")
"""The states counted on the overview, in the order shown."""

_STATE = {
    "Ready": "ready",
    "not Ready": "failing",
    "suspended": "suspended",
    "reconciling": "progressing",
}


def state(obj: Mapping[str, Any]) -> str:
    """Return one of :data:`STATES` for ``obj``."""
    return _STATE.get(why.state_of(obj)[0], "progressing")


def row(kind: str, obj: Mapping[str, Any], *, has_status: bool = True) -> dict[str, Any]:
    """Return one object's row: Flux's columns of ``tide get``, its state and its age."""
    listed = rows.row_of({**obj, "kind": kind}, has_status=has_status)
    metadata = obj.get("metadata") or {}
    return {
        "kind": kind,
        "namespace": listed.namespace,
        "name": listed.name,
        "state": state(obj) if has_status else "ready",
        "ready": listed.ready,
        "message": listed.message,
        "suspended": listed.suspended,
        "revision": next(iter(listed.extra.values()), ""),
        "columns": listed.extra,
        "age": ages.age(str(metadata.get("creationTimestamp") or "")),
    }


def tally(listed: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Return how many rows there are (``total``) and how many are in each state."""
    counts = dict.fromkeys(("total", *STATES), 0)
    for each in listed:
        counts["total"] += 1
        counts[each["state"]] += 1
    return counts


def summary(kind_rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Return, per kind, how many objects are in each state (kinds with none are left out)."""
    return [{"kind": kind, **tally(listed)} for kind, listed in kind_rows.items() if listed]


def _artifact(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    artifact = ((obj or {}).get("status") or {}).get("artifact") or {}
    return {key: artifact.get(key, "") for key in ("revision", "digest", "lastUpdateTime", "url")}


def _applied(kind: str, obj: Mapping[str, Any]) -> tuple[str, str]:
    status = obj.get("status") or {}
    if kind == "HelmRelease":
        history = status.get("history") or [{}]
        return str(history[0].get("chartVersion", "")), str(status.get("lastAttemptedRevision", ""))
    return str(status.get("lastAppliedRevision", "")), str(status.get("lastAttemptedRevision", ""))


def chain_of(
    kind: str, obj: Mapping[str, Any], source: tuple[str, str, str, Mapping[str, Any] | None] | None
) -> list[dict[str, str]]:
    """Return the source → artifact → revision chain of ``obj``, one step each.

    Args:
        kind: ``obj``'s kind.
        obj: a Kustomization, HelmRelease or source.
        source: ``(kind, name, namespace, object or None)`` of what ``obj`` takes its artifact
            from; None for a source itself (its own artifact is shown).
    """
    steps: list[dict[str, str]] = []
    if source is None:
        artifact = _artifact(obj)
        if artifact["revision"]:
            steps.append({"step": "artifact", "label": artifact["revision"], **artifact})
        return steps
    source_kind, name, namespace, source_obj = source
    steps.append(
        {
            "step": "source",
            "label": f"{source_kind}/{namespace}/{name}",
            "state": state(source_obj) if source_obj is not None else "failing",
            "url": str(((source_obj or {}).get("spec") or {}).get("url", "")),
        }
    )
    artifact = _artifact(source_obj)
    steps.append({"step": "artifact", "label": artifact["revision"] or "(none yet)", **artifact})
    applied, attempted = _applied(kind, obj)
    steps.append({"step": "applied", "label": applied or "(none yet)", "attempted": attempted})
    return steps


def tree(nodes: Iterable[inventory.Node]) -> list[dict[str, Any]]:
    """Return an inventory tree as nested dictionaries (``label``, ``kind``, ``children``)."""
    return [
        {
            "label": node.label,
            "kind": node.ref.kind if node.ref is not None else "",
            "name": node.ref.name if node.ref is not None else "",
            "namespace": node.ref.namespace if node.ref is not None else "",
            "error": node.error,
            "children": tree(node.children),
        }
        for node in nodes
    ]


def _why(links: Sequence[why.Link]) -> list[dict[str, str]]:
    return [
        {
            "ref": link.ref,
            "kind": link.kind,
            "name": link.name,
            "namespace": link.namespace,
            "relation": link.relation,
            "state": link.state,
            "reason": link.reason,
            "message": link.message,
        }
        for link in links
    ]


def detail(
    kind: str,
    obj: Mapping[str, Any],
    *,
    events: Sequence[Mapping[str, Any]],
    chain: list[dict[str, str]],
    nodes: Iterable[inventory.Node],
    links: Sequence[why.Link],
) -> dict[str, Any]:
    """Return the object page: conditions, events, inventory, chain, history and root cause."""
    status = obj.get("status") or {}
    return {
        "row": row(kind, obj),
        "conditions": [
            {
                key: str(condition.get(key, ""))
                for key in ("type", "status", "reason", "message", "lastTransitionTime")
            }
            for condition in status.get("conditions") or ()
        ],
        "events": [
            {
                "time": ages.event_time(event),
                "age": ages.age(ages.event_time(event)),
                "type": str(event.get("type", "")),
                "reason": str(event.get("reason", "")),
                "message": " ".join(str(event.get("message", "")).split()),
            }
            for event in sorted(events, key=ages.event_time, reverse=True)
        ],
        "inventory": tree(nodes),
        "chain": chain,
        "history": list(status.get("history") or ()),
        "why": _why(links) if len(links) > 1 or (links and links[0].state != "Ready") else [],
    }

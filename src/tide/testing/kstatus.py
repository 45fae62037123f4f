"""Check that an object's status obeys the kstatus rules that ``kubectl wait`` and Argo CD read.

Every integration test runs this on the objects it touched, so a reconciler that breaks an
invariant fails loudly even when the test was about something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["violations"]

_ORDER = ("Ready", "Reconciling", "Stalled")


def violations(obj: Mapping[str, Any]) -> list[str]:
    """Return every kstatus rule ``obj``'s status breaks (empty when it is well-formed)."""
    name = f"{obj.get('kind')}/{obj['metadata'].get('name')}"
    status = obj.get("status") or {}
    found: list[str] = []
    conditions = status.get("conditions") or []
    by_type = {c.get("type"): c for c in conditions}
    if len(by_type) != len(conditions):
        found.append(f"{name}: duplicate condition types")
    if "Ready" not in by_type:
        found.append(f"{name}: no Ready condition")
    for kind in ("Reconciling", "Stalled"):
        if kind in by_type and by_type[kind].get("status") != "True":
            found.append(f"{name}: {kind} present but not True (remove it instead)")
    if (
        by_type.get("Reconciling", {}).get("status")
        == "True"
        == by_type.get("Stalled", {}).get("status")
    ):
        found.append(f"{name}: Reconciling and Stalled both True")
    if by_type.get("Ready", {}).get("status") == "True" and "Stalled" in by_type:
        found.append(f"{name}: Ready=True while Stalled")
    for condition in conditions:
        for key in ("status", "reason", "message", "lastTransitionTime"):
            if key not in condition:
                found.append(f"{name}: condition {condition.get('type')} lacks {key}")
    generation = obj["metadata"].get("generation")
    if status.get("observedGeneration") not in (None, generation) and not by_type.get(
        "Reconciling"
    ):
        found.append(f"{name}: observedGeneration behind with no Reconciling condition")
    types = [c.get("type") for c in conditions]
    ranked = [t for t in types if t in _ORDER]
    if ranked != sorted(ranked, key=_ORDER.index) or types[: len(ranked)] != ranked:
        found.append(f"{name}: conditions out of order {types}")
    return found

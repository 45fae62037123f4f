"""Check that an object's status obeys the kstatus rules that ``kubectl wait`` and Argo CD read.

Every integration test runs this on the objects it touched, so a reconciler that breaks an
invariant fails loudly even when the test was about something else.

The rules are those of fluxcd/pkg ``runtime/conditions/check`` (its FAIL codes are named on each
rule below), with three differences that come from Tide's own status contract:

- ``Ready=Unknown`` may stand beside ``Reconciling=True`` or ``Stalled=True``; only
  ``Ready=True`` is refused there (Flux's FAIL0003/FAIL0004 want ``Ready=False``). Tide marks a
  reconcile under way with ``Ready=Unknown``, as Flux's own controllers do mid-reconcile, and this
  checker also sees objects between two status patches.
- ``Reconciling`` and ``Stalled`` must be ``True`` whenever present (Flux only warns when they
  are ``False``, WARN0003/WARN0004): Tide removes them instead.
- A missing ``observedGeneration`` (the root one, or a condition's) means "not reported", and the
  rules comparing it are skipped; Flux reads it as 0.

Conditions must come in Flux's order (fluxcd/pkg ``conditionWeights``): ``Stalled``,
``Reconciling``, ``Ready``, then every other type in lexical order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["violations"]

_LEADING = ("Stalled", "Reconciling", "Ready")
"""Condition types that lead ``status.conditions``, in this order (fluxcd/pkg)."""
_REQUIRED_KEYS = ("status", "reason", "message", "lastTransitionTime")


def _sort_key(kind: Any) -> tuple[int, str]:
    """Return the key that sorts condition types into Flux's order."""
    rank = _LEADING.index(kind) if kind in _LEADING else len(_LEADING)
    return rank, str(kind)


@dataclass(frozen=True)
class _Status:
    """The parts of one object's status the rules read."""

    conditions: list[Mapping[str, Any]]
    by_type: dict[Any, Mapping[str, Any]]
    generation: int | None
    observed: int | None
    """Root ``status.observedGeneration``."""

    def status_of(self, kind: str) -> str | None:
        condition = self.by_type.get(kind)
        return None if condition is None else condition.get("status")

    def is_true(self, kind: str) -> bool:
        return self.status_of(kind) == "True"


Rule = Callable[[_Status], list[str]]


def violations(obj: Mapping[str, Any]) -> list[str]:
    """Return every kstatus rule ``obj``'s status breaks (empty when it is well-formed).

    Each message starts with ``<kind>/<name>: ``; the object is not changed.
    """
    name = f"{obj.get('kind')}/{obj['metadata'].get('name')}"
    raw = obj.get("status") or {}
    conditions = list(raw.get("conditions") or [])
    status = _Status(
        conditions=conditions,
        by_type={c.get("type"): c for c in conditions},
        generation=obj["metadata"].get("generation"),
        observed=raw.get("observedGeneration"),
    )
    return [f"{name}: {message}" for rule in _RULES for message in rule(status)]


def _unique_types(s: _Status) -> list[str]:
    return ["duplicate condition types"] if len(s.by_type) != len(s.conditions) else []


def _has_ready(s: _Status) -> list[str]:
    """FAIL0002."""
    return [] if "Ready" in s.by_type else ["no Ready condition"]


def _abnormal_only_when_true(s: _Status) -> list[str]:
    """WARN0003, WARN0004, made strict."""
    return [
        f"{kind} present but not True (remove it instead)"
        for kind in ("Reconciling", "Stalled")
        if kind in s.by_type and not s.is_true(kind)
    ]


def _not_reconciling_and_stalled(s: _Status) -> list[str]:
    """FAIL0005 (with the rule above, which reports either one present but not True)."""
    both = s.is_true("Reconciling") and s.is_true("Stalled")
    return ["Reconciling and Stalled both True"] if both else []


def _not_ready_while_stalled(s: _Status) -> list[str]:
    """FAIL0004, allowing Ready=Unknown."""
    return ["Ready=True while Stalled"] if s.is_true("Ready") and "Stalled" in s.by_type else []


def _not_ready_while_reconciling(s: _Status) -> list[str]:
    """FAIL0003, allowing Ready=Unknown."""
    return (
        ["Ready=True while Reconciling"] if s.is_true("Ready") and s.is_true("Reconciling") else []
    )


def _complete_conditions(s: _Status) -> list[str]:
    return [
        f"condition {c.get('type')} lacks {key}"
        for c in s.conditions
        for key in _REQUIRED_KEYS
        if key not in c
    ]


def _observed_not_ahead(s: _Status) -> list[str]:
    """FAIL0006."""
    if s.observed is None or s.generation is None or s.observed <= s.generation:
        return []
    return [f"observedGeneration {s.observed} ahead of generation {s.generation}"]


def _behind_means_in_progress(s: _Status) -> list[str]:
    """FAIL0007; a status behind its generation is either not Ready, or Ready for the old one."""
    if s.observed is None or s.generation is None or s.observed >= s.generation:
        return []
    if s.is_true("Ready"):
        return [
            f"Ready=True while observedGeneration {s.observed} behind generation {s.generation}"
        ]
    if "Reconciling" not in s.by_type:
        return ["observedGeneration behind with no Reconciling condition"]
    return []


def _ready_conditions_agree(s: _Status) -> list[str]:
    """FAIL0008 and FAIL0009: once Ready=True, every condition is about the same generation.

    That is the root ``observedGeneration``, or ``metadata.generation`` when the root one is not
    reported (FAIL0008's "not behind the object").
    """
    settled = s.observed if s.observed is not None else s.generation
    if not s.is_true("Ready") or settled is None:
        return []
    stale = [
        c.get("type") for c in s.conditions if c.get("observedGeneration") not in (None, settled)
    ]
    if not stale:
        return []
    return [f"Ready=True but conditions {stale} observed another generation than {settled}"]


def _reconciling_is_ahead(s: _Status) -> list[str]:
    """FAIL0010: Reconciling=True is about a generation the root has not settled yet.

    The one exception is work under way on a settled generation (a new source revision, a
    ``requestedAt``): Reconciling=True then comes with Ready=Unknown, as Flux marks it.
    """
    reconciling = s.by_type.get("Reconciling")
    if not s.is_true("Reconciling") or reconciling is None or s.observed is None:
        return []
    ready = s.by_type.get("Ready") or {}
    if ready.get("status") == "Unknown" and ready.get("reason") == "Progressing":
        return []
    own = reconciling.get("observedGeneration")
    if own is None or s.observed < own:
        return []
    return [
        f"Reconciling=True for generation {own} but observedGeneration {s.observed} "
        "already settled it"
    ]


def _flux_order(s: _Status) -> list[str]:
    types = [c.get("type") for c in s.conditions]
    want = sorted(types, key=_sort_key)
    return [] if types == want else [f"conditions out of order {types} (want {want})"]


_RULES: tuple[Rule, ...] = (
    _unique_types,
    _has_ready,
    _abnormal_only_when_true,
    _not_reconciling_and_stalled,
    _not_ready_while_stalled,
    _not_ready_while_reconciling,
    _complete_conditions,
    _observed_not_ahead,
    _behind_means_in_progress,
    _ready_conditions_agree,
    _reconciling_is_ahead,
    _flux_order,
)

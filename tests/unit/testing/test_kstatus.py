"""violations(): the kstatus rules every Flux object's status must obey (fluxcd/pkg's checks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.testing.kstatus import violations

pytestmark = pytest.mark.unit


def _condition(
    kind: str, status: str = "True", *, observed: int | None = 2, reason: str = "Succeeded"
) -> dict[str, Any]:
    condition = {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": "ok",
        "lastTransitionTime": "2024-01-01T00:00:00Z",
    }
    if observed is not None:
        condition["observedGeneration"] = observed
    return condition


def _obj(*conds: dict[str, Any], observed: int | None = 2, generation: int = 2) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": list(conds)}
    if observed is not None:
        status["observedGeneration"] = observed
    return {
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system", "generation": generation},
        "status": status,
    }


WELL_FORMED: list[tuple[str, dict[str, Any]]] = [
    ("ready", _obj(_condition("Ready"))),
    ("stalled", _obj(_condition("Stalled"), _condition("Ready", "False"))),
    (
        "reconciling-new-generation",
        _obj(_condition("Reconciling"), _condition("Ready", "Unknown"), observed=1),
    ),
    (
        "retrying-new-generation",
        _obj(_condition("Reconciling"), _condition("Ready", "False"), observed=1),
    ),
    (
        "first-generation-in-progress",
        _obj(
            _condition("Reconciling", observed=1),
            _condition("Ready", "Unknown", observed=1),
            observed=-1,  # the CRD's default before anything settled
            generation=1,
        ),
    ),
    (
        "extra-conditions-in-lexical-order",
        _obj(_condition("Ready"), _condition("ArtifactInStorage"), _condition("Healthy")),
    ),
    (
        "stalled-with-extra-conditions",
        _obj(_condition("Stalled"), _condition("Ready", "False"), _condition("FetchFailed")),
    ),
    ("never-observed", _obj(_condition("Ready"), observed=None)),
    ("conditions-without-generation", _obj(_condition("Ready", observed=None))),
]


@pytest.mark.parametrize("obj", [w[1] for w in WELL_FORMED], ids=[w[0] for w in WELL_FORMED])
def test_well_formed_status_has_no_violations(obj: dict[str, Any]) -> None:
    assert violations(obj) == []


# Each rule with a status that breaks it; where one mistake breaks two rules by nature, both
# messages are expected, so every message a rule can emit is pinned here.
RULES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("duplicate", _obj(_condition("Ready"), _condition("Ready")), ["duplicate condition types"]),
    ("no-ready", _obj(_condition("Healthy")), ["no Ready condition"]),
    (
        "reconciling-false",
        _obj(_condition("Reconciling", "False"), _condition("Ready")),
        ["Reconciling present but not True"],
    ),
    (
        "stalled-unknown",
        _obj(_condition("Stalled", "Unknown"), _condition("Ready", "False")),
        ["Stalled present but not True"],
    ),
    (
        "both-true",
        _obj(
            _condition("Stalled"),
            _condition("Reconciling"),
            _condition("Ready", "False"),
            observed=1,
        ),
        ["Reconciling and Stalled both True"],
    ),
    (
        "ready-while-stalled",
        _obj(_condition("Stalled"), _condition("Ready")),
        ["Ready=True while Stalled"],
    ),
    (
        "ready-while-reconciling",  # a success that forgot to remove Reconciling
        _obj(_condition("Reconciling"), _condition("Ready")),
        [
            "Ready=True while Reconciling",
            "Reconciling=True for generation 2 but observedGeneration 2 already settled it",
        ],
    ),
    (
        "observed-generation-ahead",
        _obj(_condition("Ready", "False", observed=3), observed=3),
        ["observedGeneration 3 ahead of generation 2"],
    ),
    (
        "ready-for-an-old-generation",
        _obj(_condition("Ready", observed=1), observed=1),
        ["Ready=True while observedGeneration 1 behind generation 2"],
    ),
    (
        "observed-generation-behind",
        _obj(_condition("Ready", "False"), observed=1),
        ["observedGeneration behind with no Reconciling condition"],
    ),
    (
        "condition-generation-differs-from-root",
        _obj(_condition("Ready"), _condition("Healthy", observed=1)),
        ["Ready=True but conditions ['Healthy'] observed another generation than 2"],
    ),
    (
        "condition-behind-generation-without-root",
        _obj(_condition("Ready"), _condition("Healthy", observed=1), observed=None),
        ["Ready=True but conditions ['Healthy'] observed another generation than 2"],
    ),
    (
        "reconciling-a-settled-generation",
        _obj(_condition("Reconciling"), _condition("Ready", "False")),
        ["Reconciling=True for generation 2 but observedGeneration 2 already settled it"],
    ),
    (
        "work-under-way-on-a-settled-generation",  # a new revision's progress mark
        _obj(_condition("Reconciling"), _condition("Ready", "Unknown", reason="Progressing")),
        [],
    ),
    (
        "out-of-order",
        _obj(_condition("Healthy"), _condition("Ready")),
        ["conditions out of order"],
    ),
    (
        "ready-before-reconciling",
        _obj(_condition("Ready", "Unknown"), _condition("Reconciling"), observed=1),
        ["conditions out of order"],
    ),
    (
        "ready-before-stalled",
        _obj(_condition("Ready", "False"), _condition("Stalled")),
        ["conditions out of order"],
    ),
    (
        "others-not-in-lexical-order",
        _obj(_condition("Ready"), _condition("Healthy"), _condition("ArtifactInStorage")),
        ["conditions out of order"],
    ),
]


@pytest.mark.parametrize(("obj", "phrases"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_broken_rule_is_reported_with_the_object_and_the_rule(
    obj: dict[str, Any], phrases: list[str]
) -> None:
    found = violations(obj)

    assert len(found) == len(phrases), found
    for message, phrase in zip(found, phrases, strict=True):
        assert message.startswith(f"Kustomization/apps: {phrase}"), found


@pytest.mark.parametrize("key", ["status", "reason", "message", "lastTransitionTime"])
def test_condition_missing_a_required_key_is_reported_naming_the_key(key: str) -> None:
    obj = _obj(_condition("Ready"))
    del obj["status"]["conditions"][0][key]

    assert violations(obj) == [f"Kustomization/apps: condition Ready lacks {key}"]


def test_out_of_order_message_lists_the_types_as_found_and_in_flux_order() -> None:
    found = violations(_obj(_condition("Healthy"), _condition("Ready"), _condition("Stalled")))

    assert found == [
        "Kustomization/apps: Ready=True while Stalled",
        "Kustomization/apps: conditions out of order ['Healthy', 'Ready', 'Stalled'] "
        "(want ['Stalled', 'Ready', 'Healthy'])",
    ]


def test_every_broken_rule_is_reported_not_just_the_first() -> None:
    obj = _obj(_condition("Stalled"), _condition("Reconciling"), _condition("Stalled"))

    found = violations(obj)

    for phrase in (
        "duplicate condition types",
        "no Ready condition",
        "Reconciling and Stalled both True",
        "Reconciling=True for generation 2",
        "conditions out of order",
    ):
        assert any(phrase in message for message in found), (phrase, found)


def test_object_without_status_is_reported_as_having_no_ready_condition() -> None:
    obj = {"kind": "GitRepository", "metadata": {"name": "podinfo", "generation": 1}}

    assert violations(obj) == ["GitRepository/podinfo: no Ready condition"]


def test_violations_do_not_change_the_object() -> None:
    obj = _obj(_condition("Healthy"), _condition("Ready"), observed=1)
    before = copy.deepcopy(obj)

    violations(obj)

    assert obj == before

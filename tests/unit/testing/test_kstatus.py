"""violations(): the kstatus rules every Flux object's status must obey."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.testing.kstatus import violations

pytestmark = pytest.mark.unit


def _condition(kind: str, status: str = "True") -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": "Succeeded",
        "message": "ok",
        "lastTransitionTime": "2024-01-01T00:00:00Z",
        "observedGeneration": 2,
    }


def _obj(*conds: dict[str, Any], observed: int | None = 2) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": list(conds)}
    if observed is not None:
        status["observedGeneration"] = observed
    return {
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system", "generation": 2},
        "status": status,
    }


@pytest.mark.parametrize(
    "obj",
    [
        _obj(_condition("Ready")),
        _obj(_condition("Ready", "False"), _condition("Stalled")),
        _obj(_condition("Ready", "Unknown"), _condition("Reconciling"), observed=1),
        _obj(_condition("Ready"), _condition("ArtifactInStorage"), _condition("Healthy")),
        _obj(_condition("Ready"), observed=None),
    ],
    ids=["ready", "stalled", "reconciling-new-generation", "extra-conditions", "never-observed"],
)
def test_well_formed_status_has_no_violations(obj: dict[str, Any]) -> None:
    assert violations(obj) == []


RULES: list[tuple[str, dict[str, Any], str]] = [
    ("duplicate", _obj(_condition("Ready"), _condition("Ready")), "duplicate condition types"),
    ("no-ready", _obj(_condition("Healthy")), "no Ready condition"),
    (
        "reconciling-false",
        _obj(_condition("Ready"), _condition("Reconciling", "False")),
        "Reconciling present but not True",
    ),
    (
        "stalled-unknown",
        _obj(_condition("Ready", "False"), _condition("Stalled", "Unknown")),
        "Stalled present but not True",
    ),
    (
        "both-true",
        _obj(_condition("Ready", "False"), _condition("Reconciling"), _condition("Stalled")),
        "Reconciling and Stalled both True",
    ),
    (
        "ready-while-stalled",
        _obj(_condition("Ready"), _condition("Stalled")),
        "Ready=True while Stalled",
    ),
    (
        "observed-generation-behind",
        _obj(_condition("Ready"), observed=1),
        "observedGeneration behind with no Reconciling condition",
    ),
    (
        "out-of-order",
        _obj(_condition("Healthy"), _condition("Ready")),
        "conditions out of order",
    ),
    (
        "reconciling-before-ready",
        _obj(_condition("Reconciling"), _condition("Ready", "Unknown")),
        "conditions out of order",
    ),
]


@pytest.mark.parametrize(("obj", "phrase"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_broken_rule_is_reported_with_the_object_and_the_rule(
    obj: dict[str, Any], phrase: str
) -> None:
    found = violations(obj)

    assert len(found) == 1, found
    assert found[0].startswith(f"Kustomization/apps: {phrase}")


@pytest.mark.parametrize("key", ["status", "reason", "message", "lastTransitionTime"])
def test_condition_missing_a_required_key_is_reported_naming_the_key(key: str) -> None:
    obj = _obj(_condition("Ready"))
    del obj["status"]["conditions"][0][key]

    assert violations(obj) == [f"Kustomization/apps: condition Ready lacks {key}"]


def test_out_of_order_message_lists_the_condition_types_as_found() -> None:
    found = violations(_obj(_condition("Healthy"), _condition("Ready")))

    assert found == ["Kustomization/apps: conditions out of order ['Healthy', 'Ready']"]


def test_every_broken_rule_is_reported_not_just_the_first() -> None:
    obj = _obj(_condition("Stalled"), _condition("Reconciling"), _condition("Stalled"))

    found = violations(obj)

    for phrase in (
        "duplicate condition types",
        "no Ready condition",
        "Reconciling and Stalled both True",
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

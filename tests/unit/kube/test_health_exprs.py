"""``spec.healthCheckExprs``: compiling CEL health checks and judging objects with them."""

from __future__ import annotations

from typing import Any

import pytest

from tide.kube.ssa import health_exprs
from tide.kube.ssa.health_exprs import HealthExpressionError, compile_expressions
from tide.kube.ssa.wait import Health, Readiness

pytestmark = pytest.mark.unit

SEALED = "bitnami.com/v1alpha1"
READY_TRUE = "status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'True')"
READY_FALSE = "status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'False')"


def entry(api_version: str = SEALED, kind: str = "SealedSecret", **exprs: str) -> dict[str, str]:
    return {"apiVersion": api_version, "kind": kind, **exprs}


def resource(
    api_version: str = SEALED, kind: str = "SealedSecret", *, generation: int = 1, **status: Any
) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "ns", "generation": generation},
        "spec": {"encryptedData": {}},
        "status": status,
    }


def ready(value: str) -> list[dict[str, str]]:
    return [{"type": "Ready", "status": value}]


def judge(obj: dict[str, Any], **exprs: str) -> Readiness | None:
    return compile_expressions([entry(**exprs)]).evaluate(obj)


def test_current_expression_true_makes_the_object_current() -> None:
    verdict = judge(resource(conditions=ready("True")), current=READY_TRUE)
    assert verdict == Readiness(
        Health.CURRENT, f"healthCheckExprs: current expression '{READY_TRUE}' is true"
    )
    assert verdict.ready


def test_failed_expression_true_makes_the_object_failed() -> None:
    verdict = judge(resource(phase="Failed"), current="false", failed='status.phase == "Failed"')
    assert verdict == Readiness(
        Health.FAILED, "healthCheckExprs: failed expression 'status.phase == \"Failed\"' is true"
    )


def test_in_progress_expression_true_makes_the_object_in_progress() -> None:
    verdict = judge(
        resource(phase="Syncing"), current="true", inProgress="status.phase == 'Syncing'"
    )
    assert verdict is not None
    assert verdict.health is Health.IN_PROGRESS
    assert "inProgress expression" in verdict.message


def test_in_progress_is_asked_before_failed_and_failed_before_current() -> None:
    all_true = {"inProgress": "true", "failed": "true", "current": "true"}
    assert judge(resource(), **all_true).health is Health.IN_PROGRESS
    assert judge(resource(), **{**all_true, "inProgress": "false"}).health is Health.FAILED
    verdict = judge(resource(), inProgress="false", failed="false", current="true")
    assert verdict.health is Health.CURRENT


def test_no_true_expression_leaves_the_object_in_progress() -> None:
    verdict = judge(resource(conditions=[]), current="false", failed="false")
    assert verdict == Readiness(
        Health.IN_PROGRESS, "healthCheckExprs: no expression is true (failed, current)"
    )


def test_a_spec_its_controller_has_not_observed_is_in_progress_without_evaluating() -> None:
    obj = resource(generation=3, observedGeneration=2, phase="Failed")
    verdict = judge(obj, failed="status.phase == 'Failed'", current="true")
    assert verdict == Readiness(Health.IN_PROGRESS, "observed generation 2 of 3")


def test_an_observed_generation_that_matches_lets_the_expressions_decide() -> None:
    obj = resource(generation=3, observedGeneration=3)
    assert judge(obj, current="status.observedGeneration == metadata.generation").ready


def test_an_object_of_a_kind_no_entry_names_is_left_to_kstatus() -> None:
    checks = compile_expressions([entry(current="true")])
    assert checks.evaluate(resource(kind="Other")) is None
    assert checks.evaluate(resource("apps/v1", "Deployment")) is None
    assert compile_expressions([]).evaluate(resource()) is None


def test_an_entry_for_another_api_group_does_not_apply() -> None:
    checks = compile_expressions([entry("example.com/v1alpha1", current="true")])
    assert checks.evaluate(resource(SEALED)) is None


def test_an_entry_applies_to_every_version_of_its_group_as_in_flux() -> None:
    checks = compile_expressions([entry("bitnami.com/v1", current="true")])
    assert checks.evaluate(resource("bitnami.com/v1alpha1")).ready


def test_core_group_kinds_match_on_an_empty_group() -> None:
    checks = compile_expressions([entry("v1", "ConfigMap", current="has(data.ready)")])
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"ready": "yes"}}
    assert checks.evaluate(config_map).ready


def test_the_first_entry_for_a_group_and_kind_wins() -> None:
    checks = compile_expressions(
        [
            entry(current="true"),
            entry(current="false", failed="true"),
            entry("x.io/v1", "Y", current="true"),
        ]
    )
    assert checks.evaluate(resource()).ready
    assert checks.evaluate(resource("x.io/v1", "Y")).ready


@pytest.mark.parametrize(
    ("conditions", "health"),
    [
        (ready("True"), Health.CURRENT),
        (ready("False"), Health.FAILED),
        ([{"type": "Synced", "status": "True"}, *ready("Unknown")], Health.IN_PROGRESS),
    ],
)
def test_filter_and_all_macros_read_conditions(conditions: list, health: Health) -> None:
    verdict = judge(resource(conditions=conditions), failed=READY_FALSE, current=READY_TRUE)
    assert verdict.health is health


def test_exists_and_has_guard_fields_that_are_not_there_yet() -> None:
    current = "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready')"
    assert judge(resource(), current=current).health is Health.IN_PROGRESS
    assert judge(resource(conditions=ready("True")), current=current).ready


def test_optional_field_access_defaults_a_missing_field() -> None:
    current = "status.?conditions.orValue([]).exists(c, c.status == 'True')"
    assert judge(resource(), current=current).health is Health.IN_PROGRESS
    assert judge(resource(conditions=ready("True")), current=current).ready


def test_string_extension_functions_are_available() -> None:
    assert judge(resource(phase="READY"), current="status.phase.lowerAscii() == 'ready'").ready


def test_a_missing_field_is_reported_not_raised_and_keeps_the_wait_going() -> None:
    verdict = judge(resource(), current="status.phase == 'Ready'")
    assert verdict.health is Health.IN_PROGRESS
    assert verdict.message.startswith(
        "healthCheckExprs: cannot evaluate current expression 'status.phase == 'Ready'': "
    )
    assert "phase" in verdict.message.removeprefix("healthCheckExprs: cannot evaluate current")


def test_an_error_stops_evaluation_before_later_expressions() -> None:
    verdict = judge(resource(), inProgress="status.nope", current="true")
    assert verdict.health is Health.IN_PROGRESS
    assert "cannot evaluate inProgress expression 'status.nope'" in verdict.message


def test_a_non_boolean_result_is_reported_as_an_error() -> None:
    verdict = judge(resource(phase="Ready"), current="status.phase")
    assert verdict == Readiness(
        Health.IN_PROGRESS,
        "healthCheckExprs: cannot evaluate current expression 'status.phase': "
        "result is string, not bool",
    )


def test_an_unknown_top_level_variable_is_reported() -> None:
    verdict = judge({"apiVersion": SEALED, "kind": "SealedSecret"}, current="status.x == 1")
    assert verdict.health is Health.IN_PROGRESS
    assert "status" in verdict.message


@pytest.mark.parametrize("field", ["current", "inProgress", "failed"])
def test_a_syntax_error_names_the_entry_and_the_field(field: str) -> None:
    exprs = {"current": "true", field: "status.phase =="}
    with pytest.raises(HealthExpressionError) as caught:
        compile_expressions([entry(current="true"), entry("x.io/v1", "Y", **exprs)])
    message = str(caught.value)
    assert message.startswith(
        f"healthCheckExprs[1] (x.io/v1 Y): cannot parse {field} expression 'status.phase ==': "
    )
    assert "Syntax error" in message


def test_an_entry_without_a_current_expression_is_rejected() -> None:
    with pytest.raises(HealthExpressionError, match=r"healthCheckExprs\[0\].*current"):
        compile_expressions([entry(failed="true")])


def test_an_entry_without_kind_is_rejected() -> None:
    with pytest.raises(HealthExpressionError, match=r"apiVersion and kind are required"):
        compile_expressions([{"apiVersion": SEALED, "current": "true"}])


def test_expressions_are_compiled_once_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = compile_expressions([entry(failed=READY_FALSE, current=READY_TRUE)])

    def no_parsing(source: str) -> None:
        raise AssertionError(f"parsed again: {source}")

    monkeypatch.setattr(health_exprs, "_parse", no_parsing)
    obj = resource(conditions=ready("False"))
    first, second = checks.evaluate(obj), checks.evaluate(obj)
    assert first == second
    assert first.health is Health.FAILED
    assert checks.evaluate(resource(conditions=ready("True"))).ready

"""Post-build substitution follows Flux's envsubst rules exactly."""

from __future__ import annotations

import pytest

from tide.kustomize.substitute import (
    SubstitutionError,
    merge_variables,
    substitute,
    substitute_text,
)

pytestmark = pytest.mark.unit

VARS = {"env": "prod", "name": "Podinfo", "empty": "", "path": "a/b/c.yaml"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${env}", "prod"),
        ("x-${env}-y", "x-prod-y"),
        ("${missing}", ""),
        ("${missing:=dev}", "dev"),
        ("${missing:-dev}", "dev"),
        ("${empty:=dev}", "dev"),
        ("${empty:-dev}", "dev"),
        ("${empty=dev}", ""),
        ("${empty-dev}", ""),
        ("${missing=dev}", "dev"),
        ("${env:=dev}", "prod"),
        ("${missing:=${env}-1}", "prod-1"),
        ("${#env}", "4"),
        ("${name^^}", "PODINFO"),
        ("${name,,}", "podinfo"),
        ("${env^}", "Prod"),
        ("${name,}", "podinfo"),
        ("${env:1}", "rod"),
        ("${env:1:2}", "ro"),
        ("${path#*/}", "b/c.yaml"),
        ("${path##*/}", "c.yaml"),
        ("${path%/*}", "a/b"),
        ("${path%%/*}", "a"),
        ("${path/\\//-}", "a-b/c.yaml"),
        ("${path//\\//-}", "a-b-c.yaml"),
        ("${env/#pr/PR}", "PRod"),
        ("${env/%od/OD}", "prOD"),
    ],
)
def test_every_expression_form_expands_like_flux(text: str, expected: str) -> None:
    assert substitute_text(text, VARS) == expected


def test_double_dollar_escapes_an_expression_to_a_literal() -> None:
    assert substitute_text("$${env} and $$HOME", VARS) == "${env} and $HOME"


def test_plain_dollar_variables_are_left_for_shell_scripts() -> None:
    assert substitute_text("echo $env $1", VARS) == "echo $env $1"


def test_strict_mode_fails_on_an_undefined_variable_without_default() -> None:
    with pytest.raises(SubstitutionError, match="missing"):
        substitute_text("${missing}", VARS, strict=True)
    assert substitute_text("${missing:=ok}", VARS, strict=True) == "ok"


def test_unsupported_and_malformed_expressions_fail_the_build() -> None:
    with pytest.raises(SubstitutionError, match="unsupported"):
        substitute_text("${env:+x}", VARS)
    with pytest.raises(SubstitutionError, match="closing brace"):
        substitute_text("${env", VARS)
    with pytest.raises(SubstitutionError, match="bad substitution"):
        substitute_text("${-x}", VARS)


def configmap(**metadata: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "ns", **metadata},
        "data": {"env": "${env}", "replicas": "${count}"},
    }


def test_objects_are_substituted_through_their_yaml_text() -> None:
    (result,) = substitute([configmap()], {"env": "prod", "count": "3"})
    assert result["data"] == {"env": "prod", "replicas": 3}


@pytest.mark.parametrize("where", ["labels", "annotations"])
def test_objects_opted_out_with_substitute_disabled_are_untouched(where: str) -> None:
    marked = configmap(**{where: {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}})
    (result,) = substitute([marked], {"env": "prod"})
    assert result["data"]["env"] == "${env}"


def test_no_variables_means_no_substitution_at_all() -> None:
    obj = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "${x:=d}"}}
    assert substitute([obj], {}) == [obj]


@pytest.mark.parametrize("name", ["1abc", "a-b", "a.b", "ünï", ""])
def test_invalid_variable_names_are_refused(name: str) -> None:
    with pytest.raises(SubstitutionError, match="var name is invalid"):
        substitute([configmap()], {name: "x"})


def test_an_object_broken_by_a_value_is_named_in_the_error() -> None:
    with pytest.raises(SubstitutionError, match="ConfigMap/ns/cm"):
        substitute([configmap()], {"env": "a: [b", "count": "1"})


def test_later_sources_override_earlier_and_inline_wins() -> None:
    merged = merge_variables(
        [{"a": "1", "b": "1"}, {"b": "2", "c": "2"}],
        {"c": "inline"},
    )
    assert merged == {"a": "1", "b": "2", "c": "inline"}


def test_newlines_are_dropped_from_values() -> None:
    assert merge_variables([{"token": "abc\n"}], None) == {"token": "abc"}

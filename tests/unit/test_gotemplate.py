"""Go templates with Sprig render as Flux renders commit messages and Tide renders alerts."""

from __future__ import annotations

import pytest

from tide import gotemplate

pytestmark = pytest.mark.unit

CHANGES = {
    "AutomationObject": {"Name": "flux-system", "Namespace": "flux-system"},
    "Changed": {
        "Changes": [
            {"OldValue": "ghcr.io/org/app:1.0.0", "NewValue": "ghcr.io/org/app:1.0.1"},
            {"OldValue": "1.0.0", "NewValue": "1.0.1", "Setter": "flux-system:app:tag"},
        ]
    },
    "Values": {"env": "production"},
}


def test_flux_seed_commit_message_renders_each_new_value() -> None:
    template = "chore: update my-app to {{range .Changed.Changes}}{{.NewValue}}{{end}}"
    assert gotemplate.render(template, CHANGES) == (
        "chore: update my-app to ghcr.io/org/app:1.0.11.0.1"
    )


def test_sprig_functions_and_trimming_work_as_in_go() -> None:
    template = (
        "{{ .AutomationObject.Name | upper }} in {{ .Values.env | quote }}\n"
        "{{- range $i, $c := .Changed.Changes }}\n- {{ $i }}: {{ $c.NewValue | trunc 7 }}{{ end }}"
    )
    assert gotemplate.render(template, CHANGES) == (
        'FLUX-SYSTEM in "production"\n- 0: ghcr.io\n- 1: 1.0.1'
    )


def test_a_missing_key_renders_empty() -> None:
    assert gotemplate.render("[{{ .Nope }}]", CHANGES) == "[]"


def test_an_unknown_function_is_a_parse_error_naming_the_line() -> None:
    with pytest.raises(gotemplate.TemplateError) as caught:
        gotemplate.render("first\n{{ nope }}", CHANGES)
    assert str(caught.value) == 'template parse error at (line 2): function "nope" not defined'


def test_a_failing_function_is_an_execution_error_with_its_message() -> None:
    with pytest.raises(gotemplate.TemplateError, match=r"execution error at \(line 1:3\): boom"):
        gotemplate.render('{{ fail "boom" }}', CHANGES)


def test_empty_data_renders_a_constant_template() -> None:
    assert gotemplate.render("static text", {}) == "static text"

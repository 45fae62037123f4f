"""``tide logs`` line selection and rendering, on lines Tide's JSON formatter writes."""

from __future__ import annotations

import json
import logging

import pytest

from tide.cli.controller_logs import LogFilter, render
from tide.cli.logs import json_formatter
from tide.runtime import logfields

pytestmark = pytest.mark.unit

KS = {"kind": "Kustomization", "metadata": {"name": "apps", "namespace": "flux-system"}}


def line(level: int, message: str, obj: dict | None = None) -> str:
    extra = logfields.about(obj) if obj else None
    record = logging.getLogger("tide.x").makeRecord(
        "tide.x", level, __file__, 0, message, (), None, extra=extra
    )
    return json_formatter().format(record)


def test_the_formatter_puts_the_object_fields_at_the_top_level() -> None:
    entry = json.loads(line(logging.ERROR, "HealthCheckFailed: timeout", KS))

    assert entry["level"] == "error"
    assert entry["ts"].endswith("Z")
    assert {k: entry[k] for k in ("kind", "name", "namespace", "msg")} == {
        "kind": "Kustomization", "name": "apps", "namespace": "flux-system",
        "msg": "HealthCheckFailed: timeout",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("selected", "shown"),
    [
        (LogFilter(), [True, True, True]),
        (LogFilter(kind="kustomization"), [True, False, False]),
        (LogFilter(name="apps", namespace="flux-system"), [True, False, False]),
        (LogFilter(namespace="other"), [False, True, True]),
        (LogFilter(level="warning"), [True, False, False]),
    ],
)
def test_a_filter_selects_by_object_and_least_level(selected: LogFilter, shown: list) -> None:
    lines = [
        line(logging.ERROR, "failed", KS),
        line(logging.INFO, "starting"),
        "panic: not a JSON line",
    ]
    parsed = [json.loads(text) if text.startswith("{") else None for text in lines]

    assert [selected.matches(entry) for entry in parsed] == shown


def test_a_line_renders_as_flux_logs_prints_it() -> None:
    text = line(logging.INFO, "ReconciliationSucceeded: done", KS)
    entry = json.loads(text)

    assert render(text, entry) == (
        f"{entry['ts']} info Kustomization/apps.flux-system - ReconciliationSucceeded: done"
    )
    assert render("plain", None) == "plain"

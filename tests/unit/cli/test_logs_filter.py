"""``tide logs`` line selection and rendering, on lines Tide's JSON formatter writes."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from tide.cli import controller_logs
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


async def test_a_log_file_is_read_with_tail_and_followed_as_it_grows(tmp_path: Path) -> None:
    log = tmp_path / "tide.jsonl"
    log.write_text("".join(line(logging.INFO, f"line {n}", KS) + "\n" for n in range(3)))

    def messages(lines: list[str]) -> list[str]:
        return [json.loads(text)["msg"] for text in lines]

    tailed = controller_logs._file_lines(log, since_seconds=None, tail_lines=5, follow=False)
    assert messages([text async for text in tailed]) == ["line 0", "line 1", "line 2"]
    last = controller_logs._file_lines(log, since_seconds=None, tail_lines=1, follow=False)
    assert messages([text async for text in last]) == ["line 2"]

    followed = controller_logs._file_lines(log, since_seconds=None, tail_lines=0, follow=True)
    reading = asyncio.ensure_future(anext(followed))
    await asyncio.sleep(0.1)
    assert not reading.done()  # nothing new yet
    with log.open("a") as appending:
        appending.write(line(logging.INFO, "later", KS) + "\n")
    assert messages([await asyncio.wait_for(reading, timeout=5)]) == ["later"]
    await followed.aclose()

"""Flux's ``--flag=true|false`` spelling reaches ``tide controller``'s boolean flags."""

from __future__ import annotations

import pytest
import typer

from tide.cli._flags import normalise_bool_flags
from tide.cli.main import app

pytestmark = pytest.mark.unit

COMMAND = typer.main.get_command(app)


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        (["--no-cross-namespace-refs=true"], ["--no-cross-namespace-refs"]),
        (["--no-cross-namespace-refs=false"], []),
        (["--enable-leader-election=false"], ["--disable-leader-election"]),
        (["--enable-leader-election=true"], ["--enable-leader-election"]),
        (["--disable-leader-election=false"], ["--enable-leader-election"]),
        (["--no-cross-namespace-refs"], ["--no-cross-namespace-refs"]),
    ],
)
def test_boolean_flags_take_go_style_values(given: list[str], parsed: list[str]) -> None:
    assert normalise_bool_flags(COMMAND, ["controller", *given]) == ["controller", *parsed]


@pytest.mark.parametrize(
    "args",
    [
        ["--concurrent=true"],  # not a flag: click judges the value
        ["--no-cross-namespace-refs=maybe"],  # not a boolean: click says what is wrong
        ["--log-level=debug"],
        ["--unknown=true"],
    ],
)
def test_anything_else_is_left_for_click_to_judge(args: list[str]) -> None:
    assert normalise_bool_flags(COMMAND, ["controller", *args]) == ["controller", *args]

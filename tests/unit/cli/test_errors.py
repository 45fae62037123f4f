"""A failing command is one ✗ line on standard error; ``--verbose`` adds the traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


def test_a_failure_is_one_line_and_verbose_adds_the_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    command = [sys.executable, "-m", "tide.cli.main", "get", "all", "--kubeconfig", str(missing)]

    quiet = subprocess.run(command, capture_output=True, text=True, timeout=60)
    verbose = subprocess.run([*command, "--verbose"], capture_output=True, text=True, timeout=60)

    expected = f"✗ invalid kubeconfig: Configuration file {missing} not found"
    assert quiet.returncode == verbose.returncode == 1
    assert quiet.stderr.strip() == expected
    assert verbose.stderr.startswith("Traceback (most recent call last):")
    assert verbose.stderr.strip().endswith(expected)


def test_an_unforeseen_error_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    from tide.cli._session import unforeseen

    code = unforeseen(ValueError("boom"))

    assert code == 1
    assert capsys.readouterr().err == "✗ ValueError: boom (run with --verbose for the traceback)\n"

"""Session-wide reporting for Tide's own test suite."""

from __future__ import annotations

import pytest

from tests.integration.helpers import STARTUP


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Report how long the shared control plane took from start to ready."""
    seconds = config.stash.get(STARTUP, None)
    if seconds is not None:
        terminalreporter.write_line(
            f"control plane (etcd, apiserver, controller-manager, scheduler, kwok) "
            f"ready in {seconds:.1f}s"
        )

"""``tide dev up|env|down`` as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def tide(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tide.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_dev_up_is_reusable_and_down_stops_it(tmp_path: Path) -> None:
    env = {**os.environ, "TIDE_DEV_DIR": str(tmp_path / "dev")}
    try:
        first = tide("dev", "up", "--no-workloads", env=env)
        assert first.returncode == 0, first.stderr
        assert "control plane ready at https://127.0.0.1:" in first.stderr

        second = tide("dev", "up", env=env)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr

        exported = tide("dev", "env", env=env)
        assert exported.returncode == 0
        line = exported.stdout.strip()
        assert line.startswith("export KUBECONFIG=")
        kubeconfig = line.split("=", 1)[1]
        namespaces = subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, "get", "ns"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "kube-system" in namespaces.stdout
    finally:
        down = tide("dev", "down", env=env)
    assert down.returncode == 0
    assert "stopped 2 processes" in down.stderr
    assert not (tmp_path / "dev").exists()
    after = tide("dev", "env", env=env)
    assert after.returncode == 1
    assert "no local control plane is running" in after.stderr

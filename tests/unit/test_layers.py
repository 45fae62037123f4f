"""The import contracts cover every package, so a new one cannot slip past them unnoticed."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import tide

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CLIENT_OWNERS = {"tide.kube", "tide.testing"}
"""The packages allowed to import the Kubernetes client."""


def _contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return {contract["type"]: contract for contract in contracts}


def _packages() -> set[str]:
    return {f"tide.{module.name}" for module in pkgutil.iter_modules(tide.__path__)}


def test_every_package_has_a_layer() -> None:
    layered = {
        name for layer in _contracts()["layers"]["layers"] for name in re.split(r"[|:]", layer)
    }
    assert _packages() <= {name.strip() for name in layered}


def test_only_kube_and_testing_may_import_the_kubernetes_client() -> None:
    forbidden = _contracts()["forbidden"]
    assert "lightkube" in forbidden["forbidden_modules"]
    assert set(forbidden["source_modules"]) == _packages() - CLIENT_OWNERS


def test_the_tide_command_does_not_load_the_test_harness() -> None:
    probe = (
        "import sys, tide.cli.main; "
        "loaded = sorted(m for m in sys.modules if m.startswith('tide.testing')); "
        "print(','.join(loaded))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""

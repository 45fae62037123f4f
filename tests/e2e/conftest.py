"""End-to-end fixtures: ``tide controller`` in its own process, driven with kubectl.

These tests do what a user does: install the CRDs with ``tide install``, start ``tide controller``
with the flags under test, ``kubectl apply`` manifests and read what ``kubectl get`` shows. The
control plane is the session's (the ``tide`` pytest plugin's); Git repositories come from
:class:`tide.testing.GitServer`. Each module starts its own controller and, before stopping it,
deletes what it created, so no finalizer is left for a later test's controller to release.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tide.testing import ControlPlane, GitServer, namespace_violations

T = TypeVar("T")

FLUX_KINDS = (
    "kustomizations,helmreleases,helmcharts,helmrepositories,artifactgenerators,"
    "externalartifacts,gitrepositories,receivers"
)
"""What these tests create and delete again, dependents first."""
TIMEOUT = 90.0
"""Seconds any one state may take to show under a loaded CI machine."""


@pytest.fixture(scope="session")
def installed(tide_control_plane: ControlPlane) -> ControlPlane:
    """The control plane with Tide's CRDs, installed by ``tide install`` as a user would."""
    subprocess.run(
        [sys.executable, "-m", "tide.cli.main", "install",
         "--kubeconfig", str(tide_control_plane.kubeconfig)],
        check=True, capture_output=True, text=True, env=os.environ,
    )  # fmt: skip
    return tide_control_plane


@pytest.fixture(scope="session")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


@contextlib.contextmanager
def tide_controller(
    plane: ControlPlane, folder: Path, *flags: str, namespaces: tuple[str, ...]
) -> Iterator[Path]:
    """Run ``tide controller`` with ``flags``; yield its log file.

    On the way out the Flux objects in ``namespaces`` are deleted (and waited for) while the
    controller still runs to release their finalizers; then it gets SIGTERM, as from kubelet.
    """
    log_path = folder / "controller.log"
    command = [
        sys.executable, "-m", "tide.cli.main", "controller",
        "--kubeconfig", str(plane.kubeconfig),
        "--disable-leader-election",
        "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0",
        "--storage-addr", "127.0.0.1:0", "--storage-path", str(folder / "storage"),
        "--receiver-addr", "127.0.0.1:0",
        "--log-level", "warning", *flags,
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
        try:
            yield log_path
        finally:
            for namespace in namespaces:
                plane.kubectl(
                    "delete", FLUX_KINDS, "--all", "-n", namespace, "--ignore-not-found",
                    "--wait=true", "--timeout=60s", check=False,
                )  # fmt: skip
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # Shown by pytest with any failure of the module's last test: what the controller said.
            print(f"--- {log_path} (last 40 lines) ---")
            print("\n".join(log_path.read_text().splitlines()[-40:]))


def eventually(probe: Callable[[], T | None], *, what: str, timeout: float = TIMEOUT) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def get(plane: ControlPlane, namespace: str, ref: str) -> dict[str, Any] | None:
    """``kubectl get <kind>/<name> -o json``, or None when it does not exist."""
    out = plane.kubectl("get", ref, "-n", namespace, "-o", "json", "--ignore-not-found")
    return json.loads(out) if out.strip() else None


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    for found in ((obj or {}).get("status") or {}).get("conditions") or ():
        if found["type"] == kind:
            return found
    return None


def wait_condition(
    plane: ControlPlane,
    namespace: str,
    ref: str,
    *,
    kind: str = "Ready",
    status: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """Wait until ``ref`` shows condition ``kind`` with ``status`` (and ``reason``); return it."""

    def probe() -> dict[str, Any] | None:
        obj = get(plane, namespace, ref)
        found = condition(obj, kind)
        if obj is None or found is None or found["status"] != status:
            return None
        if reason is not None and found["reason"] != reason:
            return None
        return obj

    wanted = f"{kind}={status}" + (f" {reason}" if reason else "")
    return eventually(probe, what=f"{ref} in {namespace} to show {wanted}")


def assert_kstatus(plane: ControlPlane, *namespaces: str) -> None:
    """Every Flux object in ``namespaces`` obeys the kstatus rules."""
    problems = [p for namespace in namespaces for p in namespace_violations(plane, namespace)]
    assert not problems, problems


def ensure_namespace(plane: ControlPlane, name: str) -> None:
    if not plane.kubectl("get", "namespace", name, "--ignore-not-found").strip():
        plane.kubectl("create", "namespace", name)

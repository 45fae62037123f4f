"""The seed documents' operating flow, typed with ``tide`` in place of ``flux``, end to end.

``get all`` → ``get sources git`` → ``get kustomizations`` → ``events --for`` → ``suspend`` →
``resume`` → ``reconcile --with-source`` after a pushed commit → ``logs``, each a ``tide``
process reading the kubeconfig, against ``tide controller`` running in its own process with
``--log-file``, which ``tide logs --log-file`` reads as ``flux logs`` reads the controllers' pods.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import assert_kstatus, ensure_namespace, tide_controller, wait_condition
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.e2e

NAMESPACE = "e2e-operating"
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: {text}\n"


def manifests(url: str) -> str:
    return f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: {NAMESPACE}
spec:
  interval: 10m
  url: {url}
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: {NAMESPACE}
spec:
  interval: 10m
  prune: true
  path: ./app
  targetNamespace: {NAMESPACE}
  sourceRef:
    kind: GitRepository
    name: fleet
"""


@dataclass(frozen=True)
class Controller:
    plane: ControlPlane
    log_file: Path


@pytest.fixture(scope="module")
def controller(
    installed: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    ensure_namespace(installed, NAMESPACE)
    folder = tmp_path_factory.mktemp("operating")
    log_file = folder / "tide.jsonl"
    flags = ("--log-level", "info", "--log-file", str(log_file))
    with tide_controller(installed, folder, *flags, namespaces=(NAMESPACE,)):
        yield Controller(installed, log_file)


def tide(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tide.cli.main", *args, "-n", NAMESPACE,
         "--kubeconfig", str(plane.kubeconfig)],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
    )  # fmt: skip


def row(output: str, name: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.startswith(name))


def test_the_seed_operating_flow_with_tide_ends_in_the_controllers_logs(
    controller: Controller, git_server: GitServer
) -> None:
    plane = controller.plane
    first = git_server.create_repo("e2e-operating", {"app/greeting.yaml": CONFIG.format(text="hi")})
    plane.kubectl("apply", "-f", "-", input=manifests(git_server.http_url("e2e-operating")))
    wait_condition(plane, NAMESPACE, "kustomization/app", status="True")
    revision = f"main@sha1:{first}"

    everything = tide(plane, "get", "all")
    assert everything.returncode == 0, everything.stderr
    assert row(everything.stdout, "gitrepository/fleet")[:4] == [
        "gitrepository/fleet",
        revision,
        "False",
        "True",
    ]
    assert row(everything.stdout, "kustomization/app")[:4] == [
        "kustomization/app",
        revision,
        "False",
        "True",
    ]
    sources = tide(plane, "get", "sources", "git")
    assert row(sources.stdout, "fleet")[:4] == ["fleet", revision, "False", "True"]
    kustomizations = tide(plane, "get", "kustomizations")
    assert row(kustomizations.stdout, "app")[:4] == ["app", revision, "False", "True"]

    events = tide(plane, "events", "--for", "Kustomization/app")
    assert events.returncode == 0, events.stderr
    assert any("Normal" in line and "Kustomization/app" in line
               for line in events.stdout.splitlines()[1:])  # fmt: skip

    suspended = tide(plane, "suspend", "kustomization", "app")
    assert suspended.returncode == 0, suspended.stderr
    assert "✔ Kustomization suspended" in suspended.stderr
    resumed = tide(plane, "resume", "kustomization", "app")
    assert resumed.returncode == 0, resumed.stderr
    assert f"✔ applied revision {revision}" in resumed.stderr

    second = git_server.commit("e2e-operating", {"app/greeting.yaml": CONFIG.format(text="bye")})
    pushed = f"main@sha1:{second}"
    reconciled = tide(plane, "reconcile", "kustomization", "app", "--with-source")
    assert reconciled.returncode == 0, reconciled.stderr
    assert f"✔ fetched revision {pushed}" in reconciled.stderr
    assert f"✔ applied revision {pushed}" in reconciled.stderr

    logs = tide(plane, "logs", "--log-file", str(controller.log_file), "--kind", "Kustomization",
                "--name", "app")  # fmt: skip
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert lines, f"no Kustomization/app lines in {controller.log_file}"
    assert all(f" Kustomization/app.{NAMESPACE} - " in line for line in lines)
    assert any(pushed in line for line in lines), lines
    sources_logs = tide(plane, "logs", "--log-file", str(controller.log_file), "--kind",
                        "GitRepository")  # fmt: skip
    assert sources_logs.stdout.splitlines()
    assert all(f" GitRepository/fleet.{NAMESPACE} - " in line
               for line in sources_logs.stdout.splitlines())  # fmt: skip
    assert_kstatus(plane, NAMESPACE)

"""``tide logs`` reads the controllers' pods' logs through the API server, as ``flux logs`` does.

The pod runs on kwok's simulated node, which serves a file as the pod's log the way a kubelet
serves a container's: the file holds JSON lines written by Tide's own log formatter, in the CRI
log format, so ``--since`` and ``--tail`` are applied by the API server and the node, and the
object filters by ``tide logs``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.conftest import tide
from tests.integration.helpers import eventually
from tide.cli.logs import json_formatter
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.kube.resources import ResourceType
from tide.runtime import logfields
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

POD = ResourceType("", "v1", "Pod", "pods")


def tide_line(level: int, message: str, obj: dict[str, Any] | None, *, at: datetime) -> str:
    """Return one CRI log line holding what Tide's JSON formatter writes for this record."""
    extra = logfields.about(obj) if obj else None
    record = logging.getLogger("tide.runtime.events").makeRecord(
        "tide.runtime.events", level, __file__, 0, message, (), None, extra=extra
    )
    record.created = at.timestamp()
    record.msecs = at.microsecond // 1000
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{stamp} stderr F {json_formatter().format(record)}\n"


def flux_object(kind: str, name: str, namespace: str) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace}}


async def controller_pod(kube: KubeClient, plane: ControlPlane, namespace: str, log: Path) -> str:
    """Run a pod labelled as Flux's controllers are, whose log is ``log``; return its name."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "kustomize-controller-0",
            "namespace": namespace,
            "labels": {"app": "kustomize-controller", "app.kubernetes.io/part-of": "flux"},
        },
        "spec": {"containers": [{"name": "manager", "image": "ghcr.io/example/tide:test"}]},
    }

    async def created() -> bool:  # until the controller-manager made the default ServiceAccount
        try:
            await kube.create(POD, pod)
        except KubeError as error:
            if "serviceaccount" not in str(error).lower():
                raise
            return False
        return True

    await eventually(created, what="the pod to be admitted")
    plane.serve_pod_logs("kustomize-controller-0", namespace, log)

    async def running() -> bool:
        found = await kube.get(POD, "kustomize-controller-0", namespace=namespace)
        return (found.get("status") or {}).get("phase") == "Running"

    await eventually(running, timeout=60, what="kwok to run the pod")
    return "kustomize-controller-0"


async def test_logs_reads_controller_pods_through_the_api_server_and_filters_their_lines(
    control_plane: ControlPlane, kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    kubeconfig = control_plane.kubeconfig
    nobody = await tide(kubeconfig, "logs", "--flux-namespace", namespace)
    assert nobody.code == 1
    assert nobody.stderr.strip() == (
        "✗ no controller pods labelled app.kubernetes.io/part-of=flux in namespace "
        f"'{namespace}'; for a local `tide controller`, pass --log-file as given to it"
    )

    now = datetime.now(UTC)
    hour_ago = now - timedelta(hours=1)
    apps = flux_object("Kustomization", "apps", namespace)
    log = tmp_path / "manager.log"
    log.write_text(
        tide_line(logging.INFO, "ReconciliationSucceeded: an hour ago", apps, at=hour_ago)
        + tide_line(logging.INFO, "starting controllers", None, at=now)
        + tide_line(logging.INFO, "ReconciliationSucceeded: Applied revision: main@sha1:4f1c",
                    apps, at=now)
        + tide_line(logging.ERROR, "GitOperationFailed: failed to checkout 'main'",
                    flux_object("GitRepository", "fleet", namespace), at=now)
        + tide_line(logging.INFO, "ReconciliationSucceeded: elsewhere",
                    flux_object("Kustomization", "apps", "tenant-a"), at=now)
    )  # fmt: skip
    await controller_pod(kube, control_plane, namespace, log)
    scope = ("--flux-namespace", namespace, "-n", namespace)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    recent = await tide(kubeconfig, "logs", *scope, "--since", "5m")
    assert recent.code == 0, recent.stderr
    assert recent.stdout.splitlines() == [
        f"{stamp} info tide.runtime.events - starting controllers",
        f"{stamp} info Kustomization/apps.{namespace} - "
        "ReconciliationSucceeded: Applied revision: main@sha1:4f1c",
        f"{stamp} error GitRepository/fleet.{namespace} - "
        "GitOperationFailed: failed to checkout 'main'",
    ]

    one = await tide(kubeconfig, "logs", *scope, "--kind", "kustomization", "--name", "apps")
    assert [line.split(" - ")[1] for line in one.stdout.splitlines()] == [
        "ReconciliationSucceeded: an hour ago",
        "ReconciliationSucceeded: Applied revision: main@sha1:4f1c",
    ]

    errors = await tide(kubeconfig, "logs", *scope, "--level", "error")
    assert [line.split(" - ")[1] for line in errors.stdout.splitlines()] == [
        "GitOperationFailed: failed to checkout 'main'"
    ]

    last = await tide(kubeconfig, "logs", "--flux-namespace", namespace, "-A", "--tail", "1")
    assert last.stdout.splitlines() == [
        f"{stamp} info Kustomization/apps.tenant-a - ReconciliationSucceeded: elsewhere"
    ]

    bad = await tide(kubeconfig, "logs", *scope, "--level", "loud")
    assert bad.code == 2 and "--level" in bad.stderr


async def test_logs_follow_prints_lines_as_the_controller_writes_them(
    control_plane: ControlPlane, kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    log = tmp_path / "manager.log"
    log.write_text(tide_line(logging.INFO, "starting controllers", None, at=now))
    await controller_pod(kube, control_plane, namespace, log)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tide.cli.main", "logs", "--follow", "--flux-namespace", namespace,
        "-n", namespace, "--kubeconfig", str(control_plane.kubeconfig),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert first.decode().rstrip().endswith("starting controllers")
        apps = flux_object("Kustomization", "apps", namespace)
        with log.open("a") as appending:  # written after tide logs printed what was there
            appending.write(tide_line(logging.INFO, "ReconciliationSucceeded: later", apps,
                                      at=datetime.now(UTC)))  # fmt: skip
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert (
            line.decode()
            .rstrip()
            .endswith(f"info Kustomization/apps.{namespace} - ReconciliationSucceeded: later")
        )
    finally:
        process.terminate()
        await process.wait()

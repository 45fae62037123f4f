"""Alerts in the installed layout: the notification controller runs in a process of its own.

``tide install`` makes each component its own Deployment; the others are given
``--events-addr=http://notification-controller.<ns>.svc.<domain>./`` and POST their events
there. Here two ``tide controller`` processes do the same on loopback: source and kustomize
forward to the notification controller's events endpoint, which alerts a generic Provider.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.conftest import controller_process
from tests.integration.helpers import condition, drain, eventually
from tests.integration.kustomize.common import FILES, create_kustomization, given_source
from tests.integration.notification.common import create_alert, create_provider
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer
from tide.testing._process import free_port

pytestmark = pytest.mark.integration


async def test_a_kustomization_failing_in_another_process_is_alerted(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    sinks: Callable[..., Any],
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    sink = await sinks()
    await create_provider(kube, namespace, "hook", address=sink.url)
    await create_alert(kube, namespace, "errors", provider="hook", eventSeverity="error")
    git_server.create_repo(f"{namespace}-fleet", FILES)
    port = free_port()
    quiet = ("--disable-leader-election", "--log-level", "warning")
    with (
        controller_process(
            control_plane, tmp_path / "notification", "--controllers", "notification",
            "--events-addr", f"127.0.0.1:{port}", *quiet,
        ),
        controller_process(
            control_plane, tmp_path / "reconcilers", "--controllers", "source,kustomize",
            "--events-addr", f"http://127.0.0.1:{port}/", *quiet,
        ),
    ):  # fmt: skip
        await given_source(kube, namespace, git_server, f"{namespace}-fleet")
        # Failing every second, so an event comes after the notification controller's caches
        # hold the Alert (the rate limit counts only events some Alert selects).
        await create_kustomization(
            kube, namespace, "apps", {"path": "./missing", "retryInterval": "1s"}
        )

        async def alerted() -> list[dict[str, Any]]:
            return [e for e in sink.received if e["involvedObject"]["name"] == "apps"]

        [alert, *_] = await eventually(alerted, timeout=90, what="the alert on Kustomization apps")
        failed = await kube.get(KUSTOMIZATION, "apps", namespace=namespace)
        ready = condition(failed, "Ready") or {}
        assert ready.get("status") == "False"
        assert alert["involvedObject"]["kind"] == "Kustomization"
        assert alert["involvedObject"]["namespace"] == namespace
        assert alert["reason"] == ready["reason"]
        assert alert["severity"] == "error"
        assert "missing" in alert["message"]
        assert alert["reportingController"] == "kustomize-controller"
        for rt in (KUSTOMIZATION, GIT_REPOSITORY):
            await drain(kube, rt, namespace, timeout=60)

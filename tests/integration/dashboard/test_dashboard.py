"""The dashboard in a real browser against the real cluster, as its user sees it.

``tide dashboard`` runs as its own process reading the kubeconfig (as a user runs it) while the
source and kustomize controllers reconcile in this process; chromium opens its pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import screenshot
from tests.integration.helpers import eventually
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tide.dashboard import Fleet, running
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.runtime.servers import Endpoint
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: hello\n"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


@contextlib.asynccontextmanager
async def tide_dashboard(kubeconfig: Path, *args: str) -> AsyncIterator[str]:
    """Run ``tide dashboard --address 127.0.0.1:0``; yield the URL it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tide.cli.main", "dashboard", "--address", "127.0.0.1:0",
        "--kubeconfig", str(kubeconfig), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        found = re.search(r"http://\S+", line)
        if found is None:
            assert process.stderr is not None
            stderr = await process.stderr.read()
            pytest.fail(f"tide dashboard printed {line!r}; stderr: {stderr.decode()}")
        yield found.group(0)
    finally:
        process.terminate()
        await process.wait()
        assert process.stderr is not None
        print((await process.stderr.read()).decode())  # shown when the test fails


async def given_a_fleet(kube: KubeClient, namespace: str, git_server: GitServer) -> None:
    """A GitRepository, a Ready Kustomization, a failing one and one that depends on it."""
    repo = f"dash-{namespace[-8:]}"
    git_server.create_repo(repo, {"app/greeting.yaml": CONFIG})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./app"})
    await create_kustomization(kube, namespace, "broken", {"path": "./missing"})
    await create_kustomization(
        kube, namespace, "waits", {"path": "./app", "dependsOn": [{"name": "broken"}]}
    )
    await wait_for(kube, namespace, "app", status="True")
    await wait_for(kube, namespace, "broken", status="False", reason="BuildFailed")


def row(page: Page, ref: str):
    return page.locator(f'tr[data-ref="{ref}"]')


async def test_the_dashboard_shows_the_fleet_its_failures_and_graph_and_reconciles(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
    browser: Page,
) -> None:
    await given_a_fleet(kube, namespace, git_server)
    page = browser
    async with tide_dashboard(control_plane.kubeconfig) as url:
        await page.goto(url)
        # The overview: every object with its Ready state and message.
        app = row(page, f"Kustomization/{namespace}/app")
        await expect(app).to_contain_text("ready")
        await expect(app).to_contain_text("Applied revision: main@sha1:")
        broken = row(page, f"Kustomization/{namespace}/broken")
        await expect(broken).to_contain_text("failing")
        await expect(broken).to_contain_text("missing")
        await expect(row(page, f"GitRepository/{namespace}/fleet")).to_contain_text("ready")
        await expect(page.locator('.card[data-kind="Kustomization"]')).to_contain_text("2 failing")
        await screenshot(page, "dashboard-overview")

        # A list per kind, with Flux's columns, filtered by state.
        await page.goto(f"{url}#/kind/Kustomization")
        await expect(page.locator("th", has_text="Revision")).to_be_visible()
        await page.select_option("#filter-state", "failing")
        await expect(page.locator("tbody tr")).to_have_count(2)  # broken, and waits on it
        await expect(row(page, f"Kustomization/{namespace}/app")).to_have_count(0)
        await page.fill("#filter-text", "waits")  # names and messages: broken's says "missing"
        await expect(page.locator("tbody tr")).to_have_count(1)
        await expect(row(page, f"Kustomization/{namespace}/waits")).to_be_visible()
        await screenshot(page, "dashboard-kind")

        # A Kustomization blocked by a failing dependency: the root cause is the dependency.
        await page.goto(f"{url}#/object/Kustomization/{namespace}/waits")
        cause = page.locator("#root-cause")
        await expect(cause).to_contain_text(f"depends on Kustomization/{namespace}/broken")
        await expect(cause.locator(".root")).to_contain_text(
            f"Root cause: Kustomization/{namespace}/broken — BuildFailed"
        )
        await screenshot(page, "dashboard-why")

        # A Ready Kustomization's page: its chain, conditions and inventory.
        await page.goto(f"{url}#/object/Kustomization/{namespace}/app")
        await expect(page.locator('[data-step="source"]')).to_contain_text(
            f"GitRepository/{namespace}/fleet"
        )
        await expect(page.locator('[data-step="artifact"]')).to_contain_text("main@sha1:")
        await expect(page.locator("ul.tree")).to_contain_text(f"ConfigMap/{namespace}/greeting")
        await expect(page.locator("#events")).to_contain_text(
            f"ConfigMap/{namespace}/greeting created"
        )
        await screenshot(page, "dashboard-object")

        # Desired vs live: someone edited the ConfigMap; the dry run says what applying restores.
        await kube.patch_merge(
            resources.CONFIG_MAP, "greeting", {"data": {"text": "edited"}}, namespace=namespace
        )
        await page.click("#show-diff")
        shown = page.locator("#diff")
        await expect(shown).to_contain_text(f"ConfigMap/{namespace}/greeting drifted")
        await expect(shown).to_contain_text("-  text: edited")
        await expect(shown).to_contain_text("+  text: hello")
        await page.locator("#diff").scroll_into_view_if_needed()
        await screenshot(page, "dashboard-diff")

        # The graph: one box per object, coloured by state, edges between them.
        await page.goto(f"{url}#/graph")
        graph = page.locator("#graph svg")
        await expect(
            graph.locator(f'a.node.failing[data-ref^="Kustomization/{namespace}/broken"]')
        ).to_have_count(1)
        await expect(
            graph.locator(f'a.node.ready[data-ref^="GitRepository/{namespace}/fleet"]')
        ).to_have_count(1)
        await expect(graph.locator("path.edge.depends")).not_to_have_count(0)
        await screenshot(page, "dashboard-graph")

        # A click on Reconcile reaches the cluster and records who asked.
        await page.goto(url)
        await (
            row(page, f"Kustomization/{namespace}/app")
            .locator('button[data-action="reconcile"]')
            .click()
        )

        async def annotated() -> str | None:
            obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
            return (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)

        await eventually(annotated, what="the reconcile request annotation")
        await expect(page.locator("#toast")).to_contain_text("reconcile requested")

        async def recorded() -> list[dict]:
            listed, _ = await kube.list(resources.EVENT, namespace=namespace)
            return [
                event for event in listed
                if event["reason"] == "ReconcileRequested"
                and event["involvedObject"]["name"] == "app"
            ]  # fmt: skip

        events = await eventually(recorded, what="an event naming who asked")
        assert events[0]["message"] == "reconcile requested by admin from the dashboard"

        # Live: a change made elsewhere shows without a reload.
        await kube.patch_merge(
            KUSTOMIZATION, "app", {"spec": {"suspend": True}}, namespace=namespace
        )
        await expect(row(page, f"Kustomization/{namespace}/app")).to_contain_text("suspended")
        await expect(
            row(page, f"Kustomization/{namespace}/app").locator('button[data-action="resume"]')
        ).to_be_visible()


async def test_a_user_without_rights_sees_the_objects_but_no_action(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
    browser: Page,
) -> None:
    await given_a_fleet(kube, namespace, git_server)
    control_plane.kubectl(
        "create", "role", "flux-viewer", "-n", namespace, "--verb=get,list,watch",
        "--resource=kustomizations.kustomize.toolkit.fluxcd.io,"
        "gitrepositories.source.toolkit.fluxcd.io,events",
    )  # fmt: skip
    control_plane.kubectl(
        "create", "rolebinding", "flux-viewer", "-n", namespace, "--role=flux-viewer",
        "--user=viewer",
    )  # fmt: skip
    viewer = KubeClient.from_kubeconfig(control_plane.kubeconfig_for_user("viewer"))
    try:
        fleet = Fleet.of_client(viewer, namespace=namespace)
        async with running(fleet, Endpoint("127.0.0.1", 0)) as url:
            page = browser
            await page.goto(url)
            await expect(page.locator("#who")).to_have_text("viewer")
            app = row(page, f"Kustomization/{namespace}/app")
            await expect(app).to_contain_text("Applied revision: main@sha1:")
            await expect(row(page, f"Kustomization/{namespace}/broken")).to_contain_text("failing")
            await expect(page.locator("tbody button")).to_have_count(0)
            await page.goto(f"{url}#/object/Kustomization/{namespace}/app")
            await expect(page.locator("#summary")).to_contain_text("Applied revision")
            await expect(page.locator("#summary button")).to_have_count(0)
            # Nor does the server take the action from this user, however asked.
            async with httpx.AsyncClient() as http:
                refused = await http.post(
                    f"{url}api/action",
                    json={"action": "reconcile", "kind": "Kustomization",
                          "namespace": namespace, "name": "app"},
                    headers={"X-Tide-Dashboard": "1"},
                )  # fmt: skip
                forged = await http.post(f"{url}api/action", json={})  # a cross-site form's
                rebound = await http.get(f"{url}api/overview", headers={"Host": "evil.example"})
            assert refused.status_code == 409
            assert "not available" in refused.json()["error"]
            assert forged.status_code == 403
            assert rebound.status_code == 421
            obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
            assert REQUESTED_AT not in (obj["metadata"].get("annotations") or {})
    finally:
        await viewer.close()

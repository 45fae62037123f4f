"""``tide dashboard`` over N Kustomizations: memory, API requests, time to first render.

Run: ``.venv/bin/python bench/dashboard.py [--objects 1000] [--runs 3] [--contexts 2]``.

N Kustomizations (each with a Ready condition and an inventory of four objects, as a
reconciled one has; no controller runs, so nothing else changes them) in a fresh namespace; then
a dashboard process (this script in ``--serve`` mode: :func:`tide.dashboard.running` over a
kubeconfig of ``--contexts`` contexts, plus a Prometheus endpoint for its clients'
``rest_client_requests_total``) and a headless chromium (Debian's, driven by Playwright) on its
overview. The contexts reach the same control plane under different names (``127.0.0.1``,
``localhost``), so each context's requests are told apart by the address they went to, and the
overview shows N rows per context. Per run:

- ``start_seconds``: from the dashboard process's start until it answers (every kind listed).
- ``render_seconds``: from opening the overview until its table holds every context's N rows.
- ``overview_seconds``: one ``GET /api/overview`` (every row, with its actions), the JSON a
  redraw of the overview reads.
- ``live_seconds``: from suspending one Kustomization until the open page shows it suspended.
- ``draw_seconds``: the page's last redraw (fetch, parse, build, swap), as it measures it.
- ``peak_rss_mib``: the dashboard process's peak resident memory (``VmHWM``).
- ``api_requests``: replies the dashboard got from the API servers by then (lists, watches,
  access reviews, reachability probes), every context together.
- ``api_requests_per_context``: the most any one context got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml
from _figures import peak_rss_mib, print_medians, print_run  # bench/ is on sys.path when run
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families

from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.servers import Endpoint
from tide.testing import ControlPlane
from tide.testing._process import ServerProcess, free_port


def _status(namespace: str, name: str) -> dict:
    return {
        "observedGeneration": 1,
        "lastAppliedRevision": "main@sha1:" + "a" * 40,
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
            "message": "Applied revision: main@sha1:" + "a" * 40, "observedGeneration": 1,
            "lastTransitionTime": "2026-12-02T00:00:00Z",
        }],
        "inventory": {"entries": [
            {"id": f"{namespace}_{name}_{group}_{kind}", "v": "v1"}
            for group, kind in (("apps", "Deployment"), ("", "ServiceAccount"), ("", "Service"),
                                ("networking.k8s.io", "Ingress"))
        ]},
    }  # fmt: skip


async def _fleet(admin: KubeClient, namespace: str, count: int) -> None:
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    limit = asyncio.Semaphore(20)

    async def create(index: int) -> None:
        name = f"app-{index:04d}"
        async with limit:
            created = await admin.create(KUSTOMIZATION, {
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"interval": "10m", "path": "./app", "prune": True,
                         "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
            })  # fmt: skip
            await admin.apply_status(KUSTOMIZATION, {**created, "status": _status(namespace, name)})

    await asyncio.gather(*(create(i) for i in range(count)))


_HOSTS = ("127.0.0.1", "localhost")
"""Names the plane's serving certificate holds: one per context."""


def _kubeconfig(plane: ControlPlane, folder: Path, contexts: int) -> Path:
    """Write a kubeconfig of ``contexts`` contexts (``ctx-1`` …), each to the plane by its own
    name, as the admin."""
    admin = yaml.safe_load(plane.kubeconfig.read_text())
    port = urlsplit(plane.server).port
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "ctx-1",
              "clusters": [], "users": [], "contexts": []}  # fmt: skip
    for index, host in enumerate(_HOSTS[:contexts], start=1):
        name = f"ctx-{index}"
        cluster = {**admin["clusters"][0]["cluster"], "server": f"https://{host}:{port}"}
        config["clusters"].append({"name": name, "cluster": cluster})
        config["users"].append({"name": name, "user": admin["users"][0]["user"]})
        config["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path = folder / "contexts.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


async def _requests(metrics: int) -> dict[str, float]:
    """Replies received, by the address they came from (one per context)."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{metrics}/metrics")).text
    by_address: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "rest_client_requests":
            continue
        for sample in family.samples:
            if sample.name == "rest_client_requests_total":
                host = sample.labels.get("host", "")
                by_address[host] = by_address.get(host, 0.0) + sample.value
    return by_address


async def _answers(url: str, process: ServerProcess) -> None:
    async with httpx.AsyncClient() as http:
        while True:
            if not process.alive():
                raise SystemExit(f"the dashboard exited:\n{process.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}api/kinds")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def _run(
    plane: ControlPlane, namespace: str, count: int, chromium: str, contexts: int
) -> dict[str, float]:
    from playwright.async_api import async_playwright, expect

    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await _fleet(admin, namespace, count)
    port, metrics = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/"
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        kubeconfig = _kubeconfig(plane, Path(scratch), contexts)
        command = [sys.executable, __file__, "--serve", str(port), str(metrics),
                   str(kubeconfig)]  # fmt: skip
        started = time.monotonic()
        process = ServerProcess.start(
            "tide-dashboard", command, log=Path(scratch) / "dashboard.log", die_with_parent=True
        )
        try:
            await _answers(url, process)
            figures["start_seconds"] = time.monotonic() - started
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, headless=True, args=["--no-sandbox"]
                )
                page = await browser.new_page(viewport={"width": 1400, "height": 900})
                opened = time.monotonic()
                await page.goto(url)
                rows = page.locator("tbody tr")
                await expect(rows).to_have_count(count * contexts, timeout=300_000)
                figures["render_seconds"] = time.monotonic() - opened
                async with httpx.AsyncClient(timeout=120) as http:
                    asked = time.monotonic()
                    (await http.get(f"{url}api/overview")).raise_for_status()
                    figures["overview_seconds"] = time.monotonic() - asked
                changed = time.monotonic()
                await admin.patch_merge(
                    KUSTOMIZATION, "app-0000", {"spec": {"suspend": True}}, namespace=namespace
                )
                suspended = page.locator(
                    f'tr[data-context="ctx-1"][data-ref="Kustomization/{namespace}/app-0000"]'
                )
                await expect(suspended).to_contain_text("suspended", timeout=120_000)
                figures["live_seconds"] = time.monotonic() - changed
                figures["draw_seconds"] = (
                    int(await page.get_attribute("#main", "data-draw-ms")) / 1000
                )
                await browser.close()
            figures["peak_rss_mib"] = peak_rss_mib(process.pid)
            by_context = await _requests(metrics)
            figures["api_requests"] = sum(by_context.values())
            figures["api_requests_per_context"] = max(by_context.values())
        finally:
            process.stop()
    await admin.delete(resources.NAMESPACE, namespace)
    await admin.close()
    return figures


async def _serve(port: int, metrics: int, kubeconfig: str) -> None:
    """The dashboard process: serve until terminated, with the client's metrics exported."""
    from tide.dashboard import Fleet, running

    start_http_server(metrics, addr="127.0.0.1")
    fleet = Fleet.from_kubeconfig(kubeconfig)
    async with running(fleet, Endpoint("127.0.0.1", port)):
        await asyncio.Event().wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--contexts", type=int, default=2, choices=range(1, len(_HOSTS) + 1))
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port, metrics, kubeconfig = args.serve
        await _serve(int(port), int(metrics), kubeconfig)
        return
    chromium = os.environ.get("TIDE_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is missing: run hack/install-test-deps.sh")
    with ControlPlane() as plane:
        client = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(client)
        await client.close()
        results = []
        for run in range(args.runs):
            figures = await _run(
                plane, f"bench-dashboard-{run}", args.objects, chromium, args.contexts
            )
            results.append(figures)
            print_run(run, figures)
        title = f"{args.objects} Kustomizations, {args.contexts} contexts"
        print_medians(f"{title}, median of {args.runs} runs:", results)


if __name__ == "__main__":
    asyncio.run(main())

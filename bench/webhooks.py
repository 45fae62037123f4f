"""Webhook-to-cluster latency: a signed GitHub push until the new commit is applied.

Run: ``.venv/bin/python bench/webhooks.py [--runs 20]``.

One local control plane and Git server; the source, kustomize and notification controllers run
in-process, the webhook server on a loopback port. A GitRepository and a Kustomization (both
``interval: 1h``, so only the webhook can explain a prompt update) apply one ConfigMap; a
``github`` Receiver for ``push`` targets the GitRepository. Each run commits a new ConfigMap
value, POSTs a signed push delivery, and times (polling the API server every 20 ms):

- ``answered``: until the webhook server's 200;
- ``artifact``: until the GitRepository's ``status.artifact`` has the new commit;
- ``applied``: until the ConfigMap in the cluster holds the new value.

Prints each run, then the median and p90 of each figure. Target: ``applied`` under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from _figures import p90  # bench/ is on sys.path when run

from tide import notification, source
from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.notification.payloads import sign
from tide.notification.setup import RECEIVER
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

NAMESPACE = "bench-webhooks"
TOKEN = "bench-token"
POLL = 0.02
TIMEOUT = 60.0


def _config_map(value: int) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  run: '{value}'\n"


async def _until(probe: Any, what: str) -> float:
    """Poll ``probe`` until it is true; return the monotonic time it was first seen true."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if await probe():
            return time.monotonic()
        await asyncio.sleep(POLL)
    raise TimeoutError(f"{what} did not happen within {TIMEOUT:g}s")


async def _objects(admin: KubeClient, url: str) -> str:
    """Create the source, the Kustomization and the Receiver; return the webhook path."""
    await admin.create(resources.NAMESPACE, {"metadata": {"name": NAMESPACE}})
    await admin.create(resources.SECRET, {
        "metadata": {"name": "webhook-token", "namespace": NAMESPACE},
        "data": {"token": base64.b64encode(TOKEN.encode()).decode()},
    })  # fmt: skip
    await admin.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": NAMESPACE},
        "spec": {"interval": "1h", "url": url, "ref": {"branch": "main"}},
    })  # fmt: skip
    await admin.create(KUSTOMIZATION, {
        "metadata": {"name": "app", "namespace": NAMESPACE},
        "spec": {"interval": "1h", "path": "./app", "prune": True, "targetNamespace": NAMESPACE,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip
    await admin.create(RECEIVER, {
        "metadata": {"name": "github", "namespace": NAMESPACE},
        "spec": {"type": "github", "events": ["push"], "secretRef": {"name": "webhook-token"},
                 "resources": [{"kind": "GitRepository", "name": "fleet"}]},
    })  # fmt: skip

    async def published() -> bool:
        obj = await admin.get(RECEIVER, "github", namespace=NAMESPACE)
        return bool((obj.get("status") or {}).get("webhookPath"))

    await _until(published, "the Receiver's webhook path")
    obj = await admin.get(RECEIVER, "github", namespace=NAMESPACE)
    return obj["status"]["webhookPath"]


async def _one_run(
    admin: KubeClient, git: GitServer, session: aiohttp.ClientSession, url: str, run: int
) -> dict[str, float]:
    head = git.commit("fleet", {"app/config.yaml": _config_map(run)})
    body = json.dumps({"ref": "refs/heads/main", "after": head}).encode()
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(body, TOKEN),
               "Content-Type": "application/json"}  # fmt: skip

    async def artifact() -> bool:
        obj = await admin.get(GIT_REPOSITORY, "fleet", namespace=NAMESPACE)
        found = (obj.get("status") or {}).get("artifact") or {}
        return found.get("revision") == f"main@sha1:{head}"

    async def applied() -> bool:
        obj = await admin.get_or_none(resources.CONFIG_MAP, "app", namespace=NAMESPACE)
        return ((obj or {}).get("data") or {}).get("run") == str(run)

    started = time.monotonic()
    async with session.post(url, data=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}: {await response.text()}")
    answered = time.monotonic()
    got_artifact = await _until(artifact, f"run {run}: the new artifact")
    got_applied = await _until(applied, f"run {run}: the new ConfigMap")
    return {
        "answered": answered - started,
        "artifact": got_artifact - started,
        "applied": got_applied - started,
    }


async def main() -> None:
    """Run the benchmark; print one line per run, then medians and p90s."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with ControlPlane() as plane, GitServer() as git, tempfile.TemporaryDirectory() as storage:
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        git.create_repo("fleet", {"app/config.yaml": _config_map(0)})
        client = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="tide")
        options = ManagerOptions(
            metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0),
            leader_election=False,
        )  # fmt: skip
        manager = Manager(client, options)
        source.setup(
            manager,
            source.SourceOptions(
                storage_path=Path(storage), storage_host="127.0.0.1", storage_port=0
            ),
        )
        setup_kustomize(manager)
        runtime = notification.setup(manager, receiver=Endpoint("127.0.0.1", 0))
        task = asyncio.create_task(manager.run())
        try:
            while not manager.ready:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
            assert runtime.server is not None
            path = await _objects(admin, git.http_url("fleet"))
            url = f"http://127.0.0.1:{runtime.server.port}{path}"

            async def first() -> bool:
                obj = await admin.get_or_none(resources.CONFIG_MAP, "app", namespace=NAMESPACE)
                return obj is not None

            await _until(first, "the first commit applied")
            results = []
            async with aiohttp.ClientSession() as session:
                for run in range(1, args.runs + 1):
                    figures = await _one_run(admin, git, session, url, run)
                    results.append(figures)
                    print(
                        f"run {run:>2}: answered {figures['answered'] * 1000:6.1f} ms  "
                        f"artifact {figures['artifact']:.3f} s  applied {figures['applied']:.3f} s"
                    )
            for key in ("answered", "artifact", "applied"):
                values = [r[key] for r in results]
                print(
                    f"{key:>9}: median {statistics.median(values):.3f} s  "
                    f"p90 {p90(values):.3f} s  (n={len(values)})"
                )
        finally:
            manager.stop()
            await task
            await client.close()
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

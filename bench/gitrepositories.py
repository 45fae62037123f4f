"""N GitRepositories on one Git repository: clones made, time to all Ready, writes when idle.

Run: ``.venv/bin/python bench/gitrepositories.py [--objects 100] [--runs 3]``.

Each run starts the source controller in-process against the local control plane, creates N
GitRepositories pointing at the same URL and branch, and measures the time until all are Ready,
how many remote checks (``git ls-remote``) and fetches were made, and how many HTTP requests
reached the Git server. Then it asks for a reconcile of every object with the revision unchanged
and counts the API writes that caused (target: zero).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tide import source
from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.reconcile import Request
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer


def _ready(obj: dict[str, Any]) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition["type"] == "Ready":
            return condition["status"] == "True"
    return False


async def one_run(
    plane: ControlPlane, git: GitServer, url: str, objects: int, run: int
) -> dict[str, float]:
    """Measure one run in a fresh namespace with a fresh controller and storage."""
    namespace = f"bench-git-{run}"
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    client = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    manager = Manager(client, options)
    with tempfile.TemporaryDirectory() as storage:
        runtime = source.setup(
            manager,
            source.SourceOptions(
                storage_path=Path(storage), storage_host="127.0.0.1", storage_port=0
            ),
        )
        task = asyncio.create_task(manager.run())
        while not manager.ready:
            await asyncio.sleep(0.05)
        requests_before = git.request_count
        started = time.monotonic()
        for index in range(objects):
            await admin.create(GIT_REPOSITORY, {
                "metadata": {"name": f"repo-{index}", "namespace": namespace},
                "spec": {"interval": "10m", "url": url, "ref": {"branch": "main"}},
            })  # fmt: skip
        while True:
            listed, _ = await admin.list(GIT_REPOSITORY, namespace=namespace)
            if len(listed) == objects and all(_ready(obj) for obj in listed):
                break
            await asyncio.sleep(0.1)
        ready_seconds = time.monotonic() - started
        figures = {
            "ready_seconds": ready_seconds,
            "fetches": runtime.remotes.calls["fetch"],
            "remote_checks": runtime.remotes.calls["ls-remote"],
            "archives_built": runtime.archives.builds,
            "git_http_requests": git.request_count - requests_before,
        }
        await asyncio.sleep(1.0)
        writes_before = client.total_writes(namespace=namespace)
        fetches_before = runtime.remotes.calls["fetch"]
        controller = runtime.controller
        done_before = sum(controller.results.values())
        for index in range(objects):
            controller.enqueue(Request(namespace, f"repo-{index}"))
        while sum(controller.results.values()) < done_before + objects:
            await asyncio.sleep(0.05)
        figures["idle_writes"] = client.total_writes(namespace=namespace) - writes_before
        figures["idle_fetches"] = runtime.remotes.calls["fetch"] - fetches_before
        # Delete while the controller still runs, so finalizers are released and the next run
        # starts with no leftovers reconciling beside it.
        for index in range(objects):
            await admin.delete(GIT_REPOSITORY, f"repo-{index}", namespace=namespace)
        while (await admin.list(GIT_REPOSITORY, namespace=namespace))[0]:
            await asyncio.sleep(0.1)
        manager.stop()
        await task
    await admin.delete(resources.NAMESPACE, namespace)
    await client.close()
    await admin.close()
    return figures


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with ControlPlane() as plane, GitServer() as git:
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        await admin.close()
        files = {f"apps/app-{i}/deployment.yaml": f"replicas: {i}\n" for i in range(50)}
        git.create_repo("fleet", files)
        results = []
        for run in range(args.runs):
            figures = await one_run(plane, git, git.http_url("fleet"), args.objects, run)
            results.append(figures)
            print(
                f"run {run + 1}: "
                + ", ".join(
                    f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in figures.items()
                )
            )
        print(f"{args.objects} GitRepositories on one repository, median of {args.runs} runs:")
        for key in results[0]:
            print(f"  {key:>18}: {statistics.median(r[key] for r in results):g}")


if __name__ == "__main__":
    asyncio.run(main())

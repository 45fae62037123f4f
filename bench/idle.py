"""What an idle Kustomization costs: many at a 1-minute interval, and one of thousands of objects.

Run: ``.venv/bin/python bench/idle.py fleet [--count 500] [--runs 3]`` and
``.venv/bin/python bench/idle.py large [--objects 5000] [--runs 3]``.

``fleet``: N Kustomizations of ``bench/kustomizations.py``'s shape (Deployment with 0 replicas,
ServiceAccount, Service, Ingress; ``wait: true``; one GitRepository folder templated by
``postBuild``) at ``interval: 1m``, in a ``tide controller`` process. Once all are Ready, two
intervals pass (each Kustomization's first interval reconcile takes the full path, as its
Deployment's status moved since the apply), then over ``--window`` seconds nothing changes and the
controller's own counters are read:

- ``reconciles_per_s``: Kustomization reconciles finished per second (N / 60 keeps the interval).
- ``effective_interval_s``: N over that rate, the interval each Kustomization really gets.
- ``requests_per_object_interval``: API requests (``rest_client_requests_total``) per applied
  object per minute (target: under 0.2).
- ``api_requests_per_s`` / ``writes`` / ``dry_runs``: all requests per second, real writes
  (dry runs excluded; target: zero) and dry-run applies (one per object a full reconcile
  looks at) in the window.

``large``: one Kustomization of ``--objects`` ConfigMaps (one multi-document file), no
``wait``. Figures: ``apply_s`` (created to Ready), ``peak_rss_mib`` (the controller's
``VmHWM`` after it), then a requested reconcile with nothing changed (``requestedAt``):
``noop_s`` until it is handled, its ``noop_requests`` and ``noop_writes`` (the Kustomization's
own status: ``lastHandledReconcileAt`` and the progress mark a request gets); then a restarted
controller, which remembers nothing and takes the full path once: ``restart_s``,
``restart_writes`` (target: the status writes only) and ``restart_peak_rss_mib``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Controller, all_ready, is_ready  # bench/ is on sys.path when a script runs
from _figures import print_medians, print_run
from kustomizations import APP, fleet

from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer
from tide.testing._process import free_port

OBJECTS_PER_APP = 4


async def fleet_run(
    plane: ControlPlane, git: GitServer, *, namespace: str, count: int, window: float, workers: int
) -> dict[str, float]:
    """One ``fleet`` run in a fresh namespace and controller process."""
    shape = fleet(git)
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        controller = Controller(
            plane, Path(scratch), workers, free_port(),
            controllers=shape.controllers, counted=shape.counted,
        )  # fmt: skip
        try:
            await controller.wait_for_metrics()
            source_rt, source = shape.source
            metadata = {**source["metadata"], "namespace": namespace}
            await admin.create(source_rt, {**source, "metadata": metadata})
            limit = asyncio.Semaphore(20)

            async def create(index: int) -> None:
                spec = {**shape.spec(index, namespace), "interval": "1m"}
                async with limit:
                    await admin.create(KUSTOMIZATION, {
                        "metadata": {"name": f"app-{index:04d}", "namespace": namespace},
                        "spec": spec,
                    })  # fmt: skip

            started = time.monotonic()
            await asyncio.gather(*(create(i) for i in range(count)))
            await all_ready(admin, KUSTOMIZATION, namespace, count)
            figures["ready_s"] = time.monotonic() - started
            # Every Kustomization's first interval reconcile (the full path: its Deployment's
            # status moved since the apply), twice over, for a backlog to drain.
            await asyncio.sleep(130)
            before = await controller.samples()
            await asyncio.sleep(window)
            after = await controller.samples()
            reconciles = after["reconciles"] - before["reconciles"]
            requests = after["requests"] - before["requests"]
            rate = reconciles / window
            figures["reconciles_per_s"] = rate
            figures["effective_interval_s"] = count / rate if rate else float("inf")
            objects = count * OBJECTS_PER_APP
            figures["requests_per_object_interval"] = requests / objects / (window / 60)
            figures["api_requests_per_s"] = requests / window
            figures["writes"] = after["writes"] - before["writes"]
            figures["dry_runs"] = after["dry_runs"] - before["dry_runs"]
            figures["peak_rss_mib"] = controller.peak_rss_mib()
            await _delete_kustomizations(admin, namespace)
        finally:
            controller.stop()
    await admin.delete(resources.NAMESPACE, namespace)
    await admin.close()
    return figures


def large_repository(objects: int) -> dict[str, str]:
    """A folder of ``objects`` ConfigMaps in one file (kustomize reads one file fastest)."""
    documents = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: config-{i:05d}}}\n"
        f"data: {{index: '{i}', colour: blue}}\n"
        for i in range(objects)
    ]
    return {
        "large/configs.yaml": "---\n".join(documents),
        "large/kustomization.yaml": "resources: [configs.yaml]\n",
    }


async def _handled(admin: KubeClient, namespace: str, token: str) -> None:
    while True:
        obj = await admin.get(KUSTOMIZATION, "large", namespace=namespace)
        if (obj.get("status") or {}).get("lastHandledReconcileAt") == token and is_ready(obj):
            return
        await asyncio.sleep(0.1)


async def large_run(
    plane: ControlPlane, git: GitServer, *, namespace: str, workers: int
) -> dict[str, float]:
    """One ``large`` run in a fresh namespace and controller process."""
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    figures: dict[str, float] = {}
    start: dict[str, Any] = {"controllers": ("source", "kustomize"), "counted": "kustomization"}
    with tempfile.TemporaryDirectory() as scratch:
        storage = free_port()
        controller = Controller(plane, Path(scratch), workers, storage, **start)
        try:
            await controller.wait_for_metrics()
            await admin.create(GIT_REPOSITORY, {
                "metadata": {"name": "large", "namespace": namespace},
                "spec": {"interval": "1h", "url": git.http_url("large"),
                         "ref": {"branch": "main"}},
            })  # fmt: skip
            started = time.monotonic()
            await admin.create(KUSTOMIZATION, {
                "metadata": {"name": "large", "namespace": namespace},
                "spec": {"interval": "1h", "timeout": "10m", "path": "./large", "prune": True,
                         "targetNamespace": namespace,
                         "sourceRef": {"kind": "GitRepository", "name": "large"}},
            })  # fmt: skip
            await all_ready(admin, KUSTOMIZATION, namespace, 1)
            figures["apply_s"] = time.monotonic() - started
            await asyncio.sleep(2)
            figures["peak_rss_mib"] = controller.peak_rss_mib()
            before = await controller.samples()
            started = time.monotonic()
            await _request(admin, namespace, "noop")
            await _handled(admin, namespace, "noop")
            figures["noop_s"] = time.monotonic() - started
            await asyncio.sleep(1)
            after = await controller.samples()
            figures["noop_requests"] = after["requests"] - before["requests"]
            figures["noop_writes"] = after["writes"] - before["writes"]
            figures["noop_peak_rss_mib"] = controller.peak_rss_mib()
        finally:
            controller.stop()
        restarted = Controller(plane, Path(scratch), workers, storage, **start)
        try:
            await restarted.wait_for_metrics()
            started = time.monotonic()
            while (await restarted.samples())["reconciles"] < 1:
                await asyncio.sleep(0.2)
            figures["restart_s"] = time.monotonic() - started
            await asyncio.sleep(1)
            figures["restart_writes"] = (await restarted.samples())["writes"]
            figures["restart_peak_rss_mib"] = restarted.peak_rss_mib()
            await _delete_kustomizations(admin, namespace)
        finally:
            restarted.stop()
    await admin.delete(resources.NAMESPACE, namespace)
    await admin.close()
    return figures


async def _delete_kustomizations(admin: KubeClient, namespace: str) -> None:
    """Delete while a controller runs, so finalizers are released before the next run."""
    for obj in (await admin.list(KUSTOMIZATION, namespace=namespace))[0]:
        await admin.delete(KUSTOMIZATION, obj["metadata"]["name"], namespace=namespace)
    while (await admin.list(KUSTOMIZATION, namespace=namespace))[0]:
        await asyncio.sleep(1)


async def _request(admin: KubeClient, namespace: str, token: str) -> None:
    await admin.patch_merge(KUSTOMIZATION, "large", {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": token}}}, namespace=namespace)  # fmt: skip


async def main() -> None:
    """Run one shape ``--runs`` times; print each run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("shape", choices=("fleet", "large"))
    parser.add_argument("--count", type=int, default=500, help="fleet: Kustomizations")
    parser.add_argument("--objects", type=int, default=5000, help="large: ConfigMaps")
    parser.add_argument("--window", type=float, default=120.0, help="fleet: seconds measured")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=4, help="reconciles in flight")
    args = parser.parse_args()
    with ControlPlane(workloads=args.shape == "fleet") as plane, GitServer() as git:
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        await admin.close()
        results = []
        if args.shape == "fleet":
            git.create_repo("fleet", APP)
            print(f"{args.count} Kustomizations at interval 1m ({OBJECTS_PER_APP} objects each):")
        else:
            git.create_repo("large", large_repository(args.objects))
            print(f"one Kustomization of {args.objects} ConfigMaps:")
        for run in range(args.runs):
            namespace = f"bench-idle-{args.shape}-{run}"
            if args.shape == "fleet":
                figures = await fleet_run(
                    plane, git, namespace=namespace, count=args.count, window=args.window,
                    workers=args.concurrent,
                )  # fmt: skip
            else:
                figures = await large_run(plane, git, namespace=namespace, workers=args.concurrent)
            results.append(figures)
            print_run(run, figures)
        print_medians(f"--concurrent={args.concurrent}, median of {args.runs} runs:", results)


if __name__ == "__main__":
    asyncio.run(main())

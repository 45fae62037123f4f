"""N Kustomizations, each a Deployment (0 replicas), ServiceAccount, Service and Ingress.

Run: ``.venv/bin/python bench/kustomizations.py [--objects 100] [--runs 3] [--concurrent 20]``.

The shape of Flux's published benchmark (fluxcd/flux-benchmark): every Kustomization applies
four objects and waits for them (``wait: true``), on a control plane with a controller-manager
and a scheduler so Deployments really become Available. Here the N Kustomizations share one
GitRepository and one folder, told apart by ``postBuild.substitute`` (``${app}``), the way a
fleet templates many apps. The controllers (source + kustomize) run as a ``tide controller``
process, so its memory and API traffic are its own.

Per run, in a fresh namespace and a fresh controller process:

- ``ready_seconds``: from the first Kustomization created until all N are Ready.
- ``peak_rss_mib``: the controller process's peak resident memory (``VmHWM``).
- ``api_requests`` / ``api_writes``: replies the controller got from the API server
  (``rest_client_requests_total``), all and real writes only (POST, PUT, PATCH, DELETE less
  the dry runs, ``tide_api_dry_run_requests_total``).
- ``restart_writes``: a second controller process started on the same N (every Kustomization
  reconciled again, nothing changed) — the writes it made (target: zero).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _figures import peak_rss_mib, print_medians, print_run
from prometheus_client.parser import text_string_to_metric_families

from tide.cli.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer
from tide.testing._process import ServerProcess, free_port

APP = {
    "app/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: "${app}"}
spec:
  replicas: 0
  selector: {matchLabels: {app: "${app}"}}
  template:
    metadata: {labels: {app: "${app}"}}
    spec:
      serviceAccountName: "${app}"
      containers: [{name: app, image: "ghcr.io/stefanprodan/podinfo:6.7.0"}]
""",
    "app/serviceaccount.yaml": 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: "${app}"}\n',
    "app/service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: "${app}"}
spec:
  selector: {app: "${app}"}
  ports: [{port: 80, targetPort: 9898}]
""",
    "app/ingress.yaml": """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: "${app}"}
spec:
  rules:
    - host: "${app}.example.com"
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: "${app}", port: {number: 80}}}
""",
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _ready(obj: dict[str, Any]) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition["type"] == "Ready":
            current = condition.get("observedGeneration") == obj["metadata"]["generation"]
            return current and condition["status"] == "True"
    return False


class Controller:
    """A ``tide controller`` process running source + kustomize, with its metrics address."""

    def __init__(self, plane: ControlPlane, workdir: Path, concurrent: int, storage: int) -> None:
        self.metrics = free_port()
        command = [
            str(Path(sys.executable).parent / "tide"), "controller",
            "--controllers", "source,kustomize",
            "--kubeconfig", str(plane.kubeconfig),
            "--disable-leader-election",
            "--metrics-addr", f"127.0.0.1:{self.metrics}",
            "--health-addr", f"127.0.0.1:{free_port()}",
            "--storage-path", str(workdir / "storage"),
            "--storage-addr", f"127.0.0.1:{storage}",
            "--storage-adv-addr", f"127.0.0.1:{storage}",
            "--concurrent", str(concurrent),
            "--log-level", "warning",
        ]  # fmt: skip
        self.process = ServerProcess.start(
            "tide-controller", command, log=workdir / "controller.log", die_with_parent=True
        )

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.process.pid)

    async def samples(self) -> dict[str, float]:
        """Sum the metrics the benchmark reads, by (name, one distinguishing label)."""
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{self.metrics}/metrics")).text
        totals: dict[str, float] = {"requests": 0, "writes": 0, "reconciles": 0}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "rest_client_requests_total":
                    totals["requests"] += sample.value
                    if sample.labels["method"] in WRITE_METHODS:
                        totals["writes"] += sample.value
                elif sample.name == "tide_api_dry_run_requests_total":
                    totals["writes"] -= sample.value
                elif (
                    sample.name == "controller_runtime_reconcile_total"
                    and sample.labels.get("controller") == "kustomization"
                ):
                    totals["reconciles"] += sample.value
        return totals

    async def wait_for_metrics(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                await self.samples()
                return
            except httpx.HTTPError:
                if not self.process.alive():
                    break
                await asyncio.sleep(0.2)
        raise RuntimeError(f"controller did not start:\n{self.process.log_tail()}")

    def stop(self) -> None:
        self.process.stop(timeout=30)


async def _all_ready(admin: KubeClient, namespace: str, objects: int) -> None:
    """Return once all ``objects`` Kustomizations are Ready, watching rather than polling.

    Listing 1000 Kustomizations twice a second would load the API server the benchmark measures.
    """
    listed, version = await admin.list(KUSTOMIZATION, namespace=namespace)
    ready = {obj["metadata"]["name"] for obj in listed if _ready(obj)}
    while len(ready) < objects:
        async for _, obj in admin.watch(
            KUSTOMIZATION, resource_version=version, namespace=namespace
        ):
            version = obj["metadata"]["resourceVersion"]
            if _ready(obj):
                ready.add(obj["metadata"]["name"])
            else:
                ready.discard(obj["metadata"]["name"])
            if len(ready) == objects:
                return


async def one_run(
    plane: ControlPlane, git: GitServer, objects: int, run: int, concurrent: int
) -> dict[str, float]:
    """Measure one run in a fresh namespace with a fresh controller process."""
    namespace = f"bench-ks-{run}"
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        storage = free_port()  # kept across the restart, as a Service address would be
        controller = Controller(plane, Path(scratch), concurrent, storage)
        try:
            await controller.wait_for_metrics()
            await admin.create(GIT_REPOSITORY, {
                "metadata": {"name": "fleet", "namespace": namespace},
                "spec": {"interval": "1h", "url": git.http_url("fleet"), "ref": {"branch": "main"}},
            })  # fmt: skip
            limit = asyncio.Semaphore(20)

            async def create(index: int) -> None:
                async with limit:
                    await admin.create(KUSTOMIZATION, {
                        "metadata": {"name": f"app-{index:04d}", "namespace": namespace},
                        "spec": {
                            "interval": "1h", "timeout": "5m", "path": "./app", "prune": True,
                            "wait": True, "targetNamespace": namespace,
                            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                            "postBuild": {"substitute": {"app": f"app-{index:04d}"}},
                        },
                    })  # fmt: skip

            started = time.monotonic()
            await asyncio.gather(*(create(i) for i in range(objects)))
            await _all_ready(admin, namespace, objects)
            figures["ready_seconds"] = time.monotonic() - started
            await asyncio.sleep(2)  # let the last events land before reading the counters
            samples = await controller.samples()
            figures["peak_rss_mib"] = controller.peak_rss_mib()
            figures["api_requests"] = samples["requests"]
            figures["api_writes"] = samples["writes"]
        finally:
            controller.stop()
        # A fresh process reconciles every Kustomization once more; nothing has changed.
        restarted = Controller(plane, Path(scratch), concurrent, storage)
        try:
            await restarted.wait_for_metrics()
            restart_started = time.monotonic()
            while (await restarted.samples())["reconciles"] < objects:
                await asyncio.sleep(0.5)
            figures["restart_seconds"] = time.monotonic() - restart_started
            await asyncio.sleep(2)
            samples = await restarted.samples()
            figures["restart_requests"] = samples["requests"]
            figures["restart_writes"] = samples["writes"]
            # Delete while a controller runs, so finalizers are released and the next run
            # starts with no leftovers being finalized beside it.
            for index in range(objects):
                await admin.delete(KUSTOMIZATION, f"app-{index:04d}", namespace=namespace)
            while (await admin.list(KUSTOMIZATION, namespace=namespace))[0]:
                await asyncio.sleep(1)
        finally:
            restarted.stop()
    await admin.delete(resources.NAMESPACE, namespace)
    await admin.close()
    return figures


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=20, help="reconciles in flight")
    args = parser.parse_args()
    with ControlPlane(workloads=True) as plane, GitServer() as git:
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        await admin.close()
        git.create_repo("fleet", APP)
        results = []
        for run in range(args.runs):
            figures = await one_run(plane, git, args.objects, run, args.concurrent)
            results.append(figures)
            print_run(run, figures)
        print_medians(
            f"{args.objects} Kustomizations (4 objects each, wait: true), "
            f"--concurrent={args.concurrent}, median of {args.runs} runs:",
            results,
        )


if __name__ == "__main__":
    asyncio.run(main())

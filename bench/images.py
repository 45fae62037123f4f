"""N ImageRepositories of T tags each on one registry, with one ImagePolicy each.

Run: ``.venv/bin/python bench/images.py [--repositories 100] [--tags 1000] [--runs 3]
[--registry-rps 10] [--concurrent 4]``.

One Debian ``docker-registry`` holds N repositories of T tags (one manifest, tagged T times
through :meth:`tide.testing.Registry.tag_many`); a :class:`tide.testing.RegistryProxy` in front
of it pages tag lists by 1000 (as distribution 3 and GHCR do) and counts every request. The
image reflector runs as a ``tide controller --controllers image-reflector`` process, so its
memory is its own. Per run, in a fresh namespace and a fresh controller process:

- ``scan_seconds``: from the first ImageRepository created (the controller ready) until all N
  report T tags.
- ``policies_seconds``: from then until all N ImagePolicies (semver ``>=0.0.0``) are Ready.
- ``start_rss_mib`` / ``peak_rss_mib``: the controller process's peak resident memory
  (``VmHWM``) once it is ready with no objects, and at the end of the scans.
- ``registry_requests``: requests the registry received during the run (tag pages and
  ``/v2/`` probes; no digests are asked for).
- ``rescan_seconds`` / ``rescan_requests``: every ImageRepository asked to rescan
  (``requestedAt``), nothing changed in the registry — until all N have handled it, and what
  it cost the registry; the stored tag files are not rewritten (checked).

The ``--registry-rps`` budget is shared by the N repositories: with the default 10, N scans of
one page each take at least N / 10 seconds, which is the point.

Seam for the image automation's measurement: :data:`EXTRA_PHASES` — a phase receives the
:class:`Bench` (control plane, registry, proxy, namespace, controller) after the policies are
Ready and returns more figures. The tag push → cluster latency is ``bench/image_rollout.py``:
it needs Git, workloads and the source, kustomize and image-automation controllers too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _figures import peak_rss_mib, print_medians, print_run

from tide.image.setup import IMAGE_POLICY, IMAGE_REPOSITORY
from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.testing import ControlPlane, Registry, RegistryProxy
from tide.testing._process import ServerProcess, free_port


class Controller:
    """A ``tide controller`` process running the image reflector."""

    def __init__(self, plane: ControlPlane, workdir: Path, *, rps: float, concurrent: int) -> None:
        self.health = free_port()
        command = [
            str(Path(sys.executable).parent / "tide"), "controller",
            "--controllers", "image-reflector",
            "--kubeconfig", str(plane.kubeconfig),
            "--disable-leader-election",
            "--metrics-addr", f"127.0.0.1:{free_port()}",
            "--health-addr", f"127.0.0.1:{self.health}",
            "--storage-path", str(workdir / "storage"),
            "--registry-rps", str(rps),
            "--concurrent", str(concurrent),
            "--log-level", "warning",
        ]  # fmt: skip
        self.storage = workdir / "storage"
        self.process = ServerProcess.start(
            "tide-controller", command, log=workdir / "controller.log", die_with_parent=True
        )

    async def wait_ready(self) -> None:
        """Return once the controller's caches have synced (``/readyz``)."""
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                try:
                    if (
                        await http.get(f"http://127.0.0.1:{self.health}/readyz")
                    ).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if not self.process.alive():
                    break
                await asyncio.sleep(0.2)
        raise RuntimeError(f"controller did not start:\n{self.process.log_tail()}")

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.process.pid)

    def stop(self) -> None:
        self.process.stop(timeout=30)


@dataclass
class Bench:
    """What a phase may use."""

    plane: ControlPlane
    registry: Registry
    proxy: RegistryProxy
    admin: KubeClient
    namespace: str
    controller: Controller
    repositories: int


Phase = Callable[[Bench], Awaitable[dict[str, float]]]
EXTRA_PHASES: list[Phase] = []
"""Phases run after the policies are Ready, in order; each returns figures to print."""


async def _wait(
    admin: KubeClient, rt: Any, namespace: str, count: int, done: Callable[[dict[str, Any]], bool]
) -> None:
    while True:
        listed, _ = await admin.list(rt, namespace=namespace)
        if sum(1 for obj in listed if done(obj)) >= count:
            return
        await asyncio.sleep(0.5)


def _ready(obj: dict[str, Any]) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition["type"] == "Ready":
            current = condition.get("observedGeneration") == obj["metadata"]["generation"]
            return current and condition["status"] == "True"
    return False


async def one_run(
    plane: ControlPlane,
    registry: Registry,
    proxy: RegistryProxy,
    args: argparse.Namespace,
    run: int,
) -> dict[str, float]:
    """Measure one run in a fresh namespace with a fresh controller process."""
    namespace = f"bench-img-{run}"
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        controller = Controller(
            plane, Path(scratch), rps=args.registry_rps, concurrent=args.concurrent
        )
        try:
            await controller.wait_ready()
            figures["start_rss_mib"] = controller.peak_rss_mib()
            before = len(proxy.calls)
            started = time.monotonic()
            for index in range(args.repositories):
                await admin.create(IMAGE_REPOSITORY, {
                    "metadata": {"name": f"app-{index:03d}", "namespace": namespace},
                    "spec": {"image": f"{proxy.host}/bench/app-{index:03d}", "interval": "1h",
                             "insecure": True},
                })  # fmt: skip
                await admin.create(IMAGE_POLICY, {
                    "metadata": {"name": f"app-{index:03d}", "namespace": namespace},
                    "spec": {"imageRepositoryRef": {"name": f"app-{index:03d}"},
                             "policy": {"semver": {"range": ">=0.0.0"}}},
                })  # fmt: skip

            def scanned(obj: dict[str, Any]) -> bool:
                result = (obj.get("status") or {}).get("lastScanResult") or {}
                return result.get("tagCount") == args.tags

            await _wait(admin, IMAGE_REPOSITORY, namespace, args.repositories, scanned)
            figures["scan_seconds"] = time.monotonic() - started
            scanned_at = time.monotonic()
            await _wait(admin, IMAGE_POLICY, namespace, args.repositories, _ready)
            figures["policies_seconds"] = time.monotonic() - scanned_at
            figures["peak_rss_mib"] = controller.peak_rss_mib()
            figures["registry_requests"] = len(proxy.calls) - before
            bench = Bench(plane, registry, proxy, admin, namespace, controller, args.repositories)
            figures.update(await _rescan(bench))
            for phase in EXTRA_PHASES:
                figures.update(await phase(bench))
            for rt in (IMAGE_POLICY, IMAGE_REPOSITORY):
                for obj in (await admin.list(rt, namespace=namespace))[0]:
                    await admin.delete(rt, obj["metadata"]["name"], namespace=namespace)
                while (await admin.list(rt, namespace=namespace))[0]:
                    await asyncio.sleep(0.5)
        finally:
            controller.stop()
    await admin.delete(resources.NAMESPACE, namespace)
    await admin.close()
    return figures


async def _rescan(bench: Bench) -> dict[str, float]:
    """Ask every repository to rescan with nothing changed; time it, count, check no rewrite."""
    folder = bench.controller.storage / "imagerepository" / bench.namespace
    stamps = {p: p.stat().st_mtime_ns for p in folder.glob("*/tags.txt")}
    before = len(bench.proxy.calls)
    started = time.monotonic()
    patch = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "rescan"}}}
    for index in range(bench.repositories):
        await bench.admin.patch_merge(
            IMAGE_REPOSITORY, f"app-{index:03d}", patch, namespace=bench.namespace
        )

    def handled(obj: dict[str, Any]) -> bool:
        return (obj.get("status") or {}).get("lastHandledReconcileAt") == "rescan" and _ready(obj)

    await _wait(bench.admin, IMAGE_REPOSITORY, bench.namespace, bench.repositories, handled)
    rewritten = sum(1 for p, stamp in stamps.items() if p.stat().st_mtime_ns != stamp)
    return {
        "rescan_seconds": time.monotonic() - started,
        "rescan_requests": len(bench.proxy.calls) - before,
        "rescan_files_rewritten": rewritten,
    }


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repositories", type=int, default=100)
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--registry-rps", type=float, default=10.0)
    parser.add_argument("--concurrent", type=int, default=4, help="reconciles in flight per kind")
    args = parser.parse_args()
    with ControlPlane() as plane, Registry() as registry:
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        await admin.close()
        tags = [f"1.{i // 100}.{i % 100}" for i in range(args.tags)]
        prepared = time.monotonic()
        for index in range(args.repositories):
            path = f"bench/app-{index:03d}"
            digest = registry.push_artifact(path, tags[0], {"app.yaml": f"app: {index}"})
            registry.tag_many(path, digest, tags[1:])
        print(f"registry prepared in {time.monotonic() - prepared:.0f}s", flush=True)
        proxy = RegistryProxy(registry.url, max_page=1000)
        await proxy.start()
        try:
            results = []
            for run in range(args.runs):
                figures = await one_run(plane, registry, proxy, args, run)
                results.append(figures)
                print_run(run, figures)
        finally:
            await proxy.stop()
        print_medians(
            f"{args.repositories} ImageRepositories x {args.tags} tags, --registry-rps="
            f"{args.registry_rps:g}, --concurrent={args.concurrent}, median of {args.runs} runs:",
            results,
        )


if __name__ == "__main__":
    asyncio.run(main())

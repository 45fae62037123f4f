"""What the controller benchmarks share: a ``tide controller`` process and a Ready watch."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from _figures import peak_rss_mib, print_medians, print_run  # bench/ is on sys.path when run
from _tree import TreeMeter, servers_cpu
from prometheus_client.parser import text_string_to_metric_families

from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.testing import ControlPlane
from tide.testing._process import ServerProcess, free_port

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def is_ready(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` is Ready for its current generation."""
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition["type"] == "Ready":
            current = condition.get("observedGeneration") == obj["metadata"]["generation"]
            return current and condition["status"] == "True"
    return False


class Controller:
    """A ``tide controller`` process running ``controllers``, with its metrics address.

    ``counted`` names the controller whose reconciles :meth:`samples` counts; ``flags`` are
    more command-line flags (``--watch-label-selector``). :attr:`tree` samples the memory of
    the process and its children (kustomize, git) from the start. With ``BENCH_PROFILE`` set
    to a folder, the process runs under ``cProfile`` and leaves its profile there.
    """

    def __init__(
        self,
        plane: ControlPlane,
        workdir: Path,
        concurrent: int,
        storage: int,
        *,
        controllers: Sequence[str],
        counted: str,
        flags: Sequence[str] = (),
    ) -> None:
        self.metrics = free_port()
        self.counted = counted
        command = [
            str(Path(sys.executable).parent / "tide"), "controller",
            "--controllers", ",".join(controllers),
            "--kubeconfig", str(plane.kubeconfig),
            "--disable-leader-election",
            "--metrics-addr", f"127.0.0.1:{self.metrics}",
            "--health-addr", f"127.0.0.1:{free_port()}",
            "--storage-path", str(workdir / "storage"),
            "--storage-addr", f"127.0.0.1:{storage}",
            "--storage-adv-addr", f"127.0.0.1:{storage}",
            "--concurrent", str(concurrent),
            "--log-level", "warning",
            *flags,
        ]  # fmt: skip
        workdir.mkdir(parents=True, exist_ok=True)
        if profiles := os.environ.get("BENCH_PROFILE"):
            # cProfile writes when the process exits on SIGTERM (the controller's clean stop).
            output = Path(profiles) / f"{workdir.name}-{time.time_ns()}.prof"
            command = [sys.executable, "-m", "cProfile", "-o", str(output), *command]
        self.process = ServerProcess.start(
            "tide-controller", command, log=workdir / "controller.log", die_with_parent=True
        )
        self.tree = TreeMeter(self.process.pid)

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.process.pid)

    async def samples(self) -> dict[str, float]:
        """Sum the metrics the benchmark reads, by (name, one distinguishing label)."""
        # A loaded machine (seven other sessions' builds) can keep the answer 5 s and more.
        async with httpx.AsyncClient(timeout=60) as http:
            text = (await http.get(f"http://127.0.0.1:{self.metrics}/metrics")).text
        totals: dict[str, float] = {"requests": 0, "writes": 0, "reconciles": 0, "dry_runs": 0}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "rest_client_requests_total":
                    totals["requests"] += sample.value
                    if sample.labels["method"] in WRITE_METHODS:
                        totals["writes"] += sample.value
                elif sample.name == "tide_api_dry_run_requests_total":
                    totals["writes"] -= sample.value
                    totals["dry_runs"] += sample.value
                elif (
                    sample.name == "controller_runtime_reconcile_total"
                    and sample.labels.get("controller") == self.counted
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
        self.tree.stop()
        self.process.stop(timeout=30)


async def all_ready(admin: KubeClient, rt: ResourceType, namespace: str, objects: int) -> None:
    """Return once all ``objects`` of kind ``rt`` are Ready, watching rather than polling.

    Listing 1000 objects twice a second would load the API server the benchmark measures.
    """
    listed, version = await admin.list(rt, namespace=namespace)
    ready = {obj["metadata"]["name"] for obj in listed if is_ready(obj)}
    while len(ready) < objects:
        async for _, obj in admin.watch(rt, resource_version=version, namespace=namespace):
            version = obj["metadata"]["resourceVersion"]
            if is_ready(obj):
                ready.add(obj["metadata"]["name"])
            else:
                ready.discard(obj["metadata"]["name"])
            if len(ready) == objects:
                return


PHASE_TIMEOUT = 1800.0
"""Seconds a benchmark phase may take before the run is abandoned with the controller's log."""


async def bounded(phase: Any, controller: Controller | Sequence[Controller], what: str) -> None:
    """Await ``phase``, but give up when a controller dies or ``PHASE_TIMEOUT`` passes."""
    controllers = [controller] if isinstance(controller, Controller) else list(controller)
    task = asyncio.ensure_future(phase)
    deadline = time.monotonic() + PHASE_TIMEOUT
    while not task.done():
        await asyncio.wait({task}, timeout=1.0)
        if task.done():
            break
        dead = [one for one in controllers if not one.process.alive()]
        if dead or time.monotonic() > deadline:
            task.cancel()
            state = "exited" if dead else "was too slow"
            culprit = (dead or controllers)[0]
            raise RuntimeError(
                f"waiting for {what}: the controller {state}:\n{culprit.process.log_tail()}"
            )
    task.result()


Prepare = Callable[[KubeClient, str, int], Awaitable[list[str]]]
"""Untimed set-up of a run (RBAC, namespaces) in a namespace for N objects; returns the
namespaces it created, which are deleted after the run."""


@dataclass(frozen=True)
class Fleet:
    """What one benchmark run creates: a source, then ``count`` objects of kind ``rt``.

    Attributes:
        rt: the kind measured (Kustomization, HelmRelease).
        controllers: the ``tide controller --controllers`` to run.
        counted: the controller whose reconciles tell that the restart has gone round.
        source: (kind, object) created first, which every object refers to (None: each object
            has its own ``companion``).
        spec: the spec of object ``app-<index>`` in ``namespace``.
        companion: (kind, object) created just before object ``index`` in ``namespace`` and
            deleted with it, such as an app's own OCIRepository (default none).
        prepare: untimed set-up before the objects are created (default none).
        flags: more ``tide controller`` flags.
        again: prefix of the figures of the restarted controller (``restart``, ``idle``).
        extra: more counters, by figure name, read before and after each phase.
    """

    rt: ResourceType
    controllers: Sequence[str]
    counted: str
    source: tuple[ResourceType, dict[str, Any]] | None
    spec: Callable[[int, str], dict[str, Any]]
    companion: Callable[[int, str], tuple[ResourceType, dict[str, Any]]] | None = None
    prepare: Prepare | None = None
    flags: Sequence[str] = ()
    again: str = "restart"
    extra: Mapping[str, Callable[[], float]] = field(default_factory=dict)


async def gather_limited(calls: Iterable[Awaitable[Any]], *, limit: int = 20) -> None:
    """Await ``calls`` with at most ``limit`` in flight (a benchmark's own set-up and clean-up)."""
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> None:
        async with semaphore:
            await call

    await asyncio.gather(*(one(call) for call in calls))


def _tree_figures(controller: Controller, cpu_before: float, prefix: str = "") -> dict[str, float]:
    """CPU seconds since ``cpu_before`` and peak memory of the controller and its children."""
    return {
        f"{prefix}cpu_seconds": controller.tree.cpu_seconds() - cpu_before,
        f"{prefix}tree_peak_pss_mib": controller.tree.peak_pss_mib(),
        f"{prefix}tree_peak_rss_mib": controller.tree.peak_rss_mib(),
    }


async def run_fleet(
    plane: ControlPlane, fleet: Fleet, *, namespace: str, count: int, concurrent: int
) -> dict[str, float]:
    """Measure one run in a fresh namespace with a fresh controller process.

    Figures: ``ready_seconds``, ``peak_rss_mib`` (the controller process), ``cpu_seconds``,
    ``tree_peak_pss_mib`` and ``tree_peak_rss_mib`` (the controller with its children, CPU
    during the phase; see ``bench/_tree.py``),
    ``api_requests``, ``api_writes`` and the ``extra`` counters; then a restarted controller's
    ``<again>_seconds`` (until it reconciled all ``count``), ``_requests``, ``_writes``,
    ``_cpu_seconds``, extra counters and ``_peak_rss_mib``.
    """
    start = partial(
        Controller, controllers=fleet.controllers, counted=fleet.counted, flags=fleet.flags
    )
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    created = await fleet.prepare(admin, namespace, count) if fleet.prepare else []
    figures: dict[str, float] = {}
    names = [f"app-{index:04d}" for index in range(count)]
    companions = [fleet.companion(i, namespace) for i in range(count)] if fleet.companion else []
    with tempfile.TemporaryDirectory() as scratch:
        storage = free_port()  # kept across the restart, as a Service address would be
        controller = start(plane, Path(scratch), concurrent, storage)
        try:
            await controller.wait_for_metrics()
            if fleet.source is not None:
                source_rt, source = fleet.source
                metadata = {**source["metadata"], "namespace": namespace}
                await admin.create(source_rt, {**source, "metadata": metadata})

            async def create(index: int) -> None:
                if companions:
                    await admin.create(*companions[index])
                await admin.create(fleet.rt, {
                    "metadata": {"name": names[index], "namespace": namespace},
                    "spec": fleet.spec(index, namespace),
                })  # fmt: skip

            before = {name: read() for name, read in fleet.extra.items()}
            cpu_before = controller.tree.cpu_seconds()
            started = time.monotonic()
            await gather_limited(create(i) for i in range(count))
            await bounded(all_ready(admin, fleet.rt, namespace, count), controller, "all Ready")
            figures["ready_seconds"] = time.monotonic() - started
            await asyncio.sleep(2)  # let the last events land before reading the counters
            samples = await controller.samples()
            figures["peak_rss_mib"] = controller.peak_rss_mib()
            figures.update(_tree_figures(controller, cpu_before))
            figures["api_requests"] = samples["requests"]
            figures["api_writes"] = samples["writes"]
            figures.update({name: read() - before[name] for name, read in fleet.extra.items()})
        finally:
            controller.stop()
        # A fresh process reconciles every object once more; nothing has changed.
        restarted = start(plane, Path(scratch), concurrent, storage)
        try:
            await restarted.wait_for_metrics()
            before = {name: read() for name, read in fleet.extra.items()}
            cpu_before = restarted.tree.cpu_seconds()
            again = time.monotonic()

            async def reconciled_again() -> None:
                # Every scrape renders all the controller's metrics (a profile of a 100-app
                # restart at two a second found 8 % of its time there), so look only every 2 s.
                while (await restarted.samples())["reconciles"] < count:
                    await asyncio.sleep(2)

            await bounded(reconciled_again(), restarted, "every object reconciled again")
            figures[f"{fleet.again}_seconds"] = time.monotonic() - again
            await asyncio.sleep(2)
            samples = await restarted.samples()
            figures[f"{fleet.again}_requests"] = samples["requests"]
            figures[f"{fleet.again}_writes"] = samples["writes"]
            for name, read in fleet.extra.items():
                figures[f"{fleet.again}_{name}"] = read() - before[name]
            figures[f"{fleet.again}_peak_rss_mib"] = restarted.peak_rss_mib()
            figures.update(_tree_figures(restarted, cpu_before, f"{fleet.again}_"))
            # Delete while a controller runs, so finalizers are released (and releases
            # uninstalled) before the next run starts.
            await gather_limited(
                admin.delete(fleet.rt, name, namespace=namespace) for name in names
            )
            await gather_limited(
                admin.delete(rt, obj["metadata"]["name"], namespace=namespace)
                for rt, obj in companions
            )

            async def deleted() -> None:
                kinds = {fleet.rt, *(rt for rt, _ in companions)}
                while any([(await admin.list(rt, namespace=namespace))[0] for rt in kinds]):
                    await asyncio.sleep(1)

            await bounded(deleted(), restarted, "every object deleted")
        finally:
            restarted.stop()
    await gather_limited(admin.delete(resources.NAMESPACE, name) for name in created)
    await admin.delete(resources.NAMESPACE, namespace)
    await _namespaces_gone(admin, set(created))
    await admin.close()
    return figures


async def _namespaces_gone(admin: KubeClient, names: set[str]) -> None:
    """Wait (up to ``PHASE_TIMEOUT``) until the namespace controller has emptied ``names``.

    A thousand namespaces being emptied load the API server; the next run must not pay for it.
    """
    deadline = time.monotonic() + PHASE_TIMEOUT
    while names and time.monotonic() < deadline:
        listed, _ = await admin.list(resources.NAMESPACE)
        if not names & {obj["metadata"]["name"] for obj in listed}:
            return
        await asyncio.sleep(2)


async def run_and_print(
    plane: ControlPlane, fleet: Fleet, *, prefix: str, count: int, runs: int, concurrent: int
) -> None:
    """Measure ``runs`` runs (namespaces ``<prefix>-<run>``); print each and the medians."""
    results = []
    for run in range(runs):
        figures = await run_fleet(
            plane, fleet, namespace=f"{prefix}-{run}", count=count, concurrent=concurrent
        )
        results.append(figures)
        print_run(run, figures)
    print_medians(f"--concurrent={concurrent}, median of {runs} runs:", results)


def kustomization_fleet(
    spec: Callable[[int, str], dict[str, Any]],
    *,
    source: tuple[ResourceType, dict[str, Any]] | None,
    **more: Any,
) -> Fleet:
    """A fleet of Kustomizations under ``tide controller --controllers source,kustomize``.

    The API server's and etcd's CPU seconds are counted along (``servers_cpu``), so a run says
    which side of the API its time went to. ``more`` sets the other :class:`Fleet` fields.
    """
    return Fleet(
        rt=KUSTOMIZATION,
        controllers=("source", "kustomize"),
        counted="kustomization",
        source=source,
        spec=spec,
        extra=servers_cpu(),
        **more,
    )


def fleet_parser(
    description: str | None, *, objects: int = 100, concurrent: int = 4
) -> argparse.ArgumentParser:
    """Return a parser of ``--objects``, ``--runs`` and ``--concurrent`` (default tide's, 4)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--objects", type=int, default=objects)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--concurrent", type=int, default=concurrent, help="reconciles in flight per controller"
    )
    return parser


async def install(plane: ControlPlane, *objects: tuple[ResourceType, dict[str, Any]]) -> None:
    """Install Tide's CRDs on ``plane`` and create ``objects`` (cluster-wide set-up)."""
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await install_crds(admin)
    for rt, obj in objects:
        await admin.create(rt, obj)
    await admin.close()

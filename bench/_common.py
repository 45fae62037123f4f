"""What the controller benchmarks share: a ``tide controller`` process and a Ready watch."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
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

    ``counted`` names the controller whose reconciles :meth:`samples` counts.
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
        ]  # fmt: skip
        self.process = ServerProcess.start(
            "tide-controller", command, log=workdir / "controller.log", die_with_parent=True
        )

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

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

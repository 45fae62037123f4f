"""``tide stats``: how many objects of each kind are running, failing and suspended.

One row per kind Tide serves, as ``flux stats`` prints: RECONCILERS (objects), RUNNING
(Ready=True), FAILING (Ready=False), SUSPENDED, and STORAGE (the bytes of the artifacts the
kind's objects keep, for sources).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tide.api.conditions import getter
from tide.api.kinds import KINDS
from tide.cli._session import ClusterOptions, cluster_command, print_wide, run_command
from tide.kube.errors import KubeNotFound
from tide.kube.resources import resource_type

__all__ = ["count", "human_size", "run"]


def human_size(size: int) -> str:
    """Return ``size`` bytes as ``flux stats`` shows storage (``1.2 MiB``)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def count(objects: list[dict[str, Any]]) -> tuple[int, int, int, int, int]:
    """Return (objects, running, failing, suspended, artifact bytes) of ``objects``."""
    running = failing = suspended = storage = 0
    for obj in objects:
        status = obj.get("status") or {}
        if (obj.get("spec") or {}).get("suspend"):
            suspended += 1
        elif getter.is_true(status, "Ready"):
            running += 1
        elif getter.is_false(status, "Ready"):
            failing += 1
        storage += int((status.get("artifact") or {}).get("size") or 0)
    return len(objects), running, failing, suspended, storage


async def _stats(options: ClusterOptions) -> None:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for title in ("RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE"):
        table.add_column(title, no_wrap=True)
    async with options.client() as client:
        for info in KINDS:
            try:
                objects, _ = await client.list(
                    resource_type(info.kind), namespace=options.list_namespace
                )
            except KubeNotFound:  # the kind's CRD is not installed
                continue
            _, running, failing, suspended, storage = count(objects)
            table.add_row(
                info.kind, str(running), str(failing), str(suspended),
                human_size(storage) if storage else "-",
            )  # fmt: skip
    print_wide(table)


@cluster_command(all_namespaces=True)
def run(options: ClusterOptions) -> None:
    """Count the Flux objects of each kind: running, failing, suspended."""
    run_command(_stats(options))

"""``tide install``: put Tide's CRDs on the cluster and wait until the API server serves them.

The CRDs are generated from the typed models at run time — the same text ``config/crd/`` holds
(CI checks the two agree) — so an installed ``tide`` never needs the source tree.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from tide.api import crdgen
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError

__all__ = ["install_crds", "run"]

_console = Console(stderr=True)


def run(
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig file (default: $KUBECONFIG).")
    ] = None,
    context: Annotated[str | None, typer.Option(help="Kubeconfig context to use.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for CRDs to be served.")] = 60.0,
) -> None:
    """Install or upgrade Tide's CustomResourceDefinitions (server-side apply)."""
    try:
        names = asyncio.run(_install(kubeconfig, context, timeout))
    except (KubeError, TimeoutError) as error:
        _console.print(f"[red]✗[/] install failed: {error}")
        raise typer.Exit(1) from error
    _console.print(f"[green]✔[/] {len(names)} CRDs installed and established")


async def _install(kubeconfig: Path | None, context: str | None, timeout: float) -> list[str]:
    client = KubeClient.from_kubeconfig(kubeconfig, context=context, field_manager="tide")
    try:
        with _console.status("applying CRDs"):
            return await install_crds(client, timeout=timeout)
    finally:
        await client.close()


async def install_crds(client: KubeClient, *, timeout: float = 60.0) -> list[str]:
    """Apply every CRD and wait until each is Established; return their names."""
    documents = [yaml.safe_load(text) for text in crdgen.render_all().values()]
    crds = [doc for doc in documents if doc.get("kind") == "CustomResourceDefinition"]
    for crd in crds:
        await client.apply(resources.CRD, crd)
    names = [crd["metadata"]["name"] for crd in crds]
    deadline = time.monotonic() + timeout
    for name in names:
        while not _established(await client.get(resources.CRD, name)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not established after {timeout:.0f}s")
            await asyncio.sleep(0.2)
    return names


def _established(crd: dict[str, Any]) -> bool:
    for condition in (crd.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Established":
            return condition.get("status") == "True"
    return False

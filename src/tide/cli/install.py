"""``tide install``: put Tide's CRDs on the cluster and wait until the API server serves them.

The CRDs are generated from the typed models at run time — the same text ``config/crd/`` holds
(CI checks the two agree) — so an installed ``tide`` never needs the source tree.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tide.install import install_crds
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError

__all__ = ["run"]

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

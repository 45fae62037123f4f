"""``tide version``: this client's version and, when a cluster answers, its controllers'.

A controller's version is its Deployment's ``app.kubernetes.io/version`` label (the image tag
when the label is missing), read from the install namespace as ``flux version`` does.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

import tide
from tide.cli._session import ClusterOptions, cluster_command, out
from tide.install import controller_versions
from tide.kube.errors import KubeError

__all__ = ["run"]


@cluster_command
def run(
    options: ClusterOptions,
    client: Annotated[
        bool, typer.Option("--client", help="Print only the client's version; no cluster.")
    ] = False,
) -> None:
    """Print the client's and the installed controllers' versions."""
    out.print(f"tide: v{tide.__version__}", markup=False)
    if client:
        return
    try:
        versions = _run(options)
    except (KubeError, OSError) as error:
        out.print(f"controllers: cluster not reachable ({error})", markup=False, soft_wrap=True)
        return
    if not versions:
        out.print(f"controllers: not installed in namespace {options.namespace}", markup=False)
    for name, version in versions.items():
        out.print(f"{name}: {_shown(version)}", markup=False)


def _shown(version: str) -> str:
    """Return ``version`` as Flux prints versions: ``v0.1.0`` (a label may hold ``0.1.0``)."""
    return f"v{version}" if version[:1].isdigit() else version


def _run(options: ClusterOptions) -> dict[str, str]:
    async def read() -> dict[str, str]:
        async with options.client() as kube:
            return await controller_versions(kube, namespace=options.namespace)

    return asyncio.run(read())

"""``tide dashboard``: serve the web dashboard on this machine, as the kubeconfig's user.

Every read and action goes through the kubeconfig's credentials, so the page shows what that
user may list and offers only what that user may do. The current context is used (or
``--context``). In a cluster (``tide install --components-extra dashboard``) it runs as its own
ServiceAccount, with ``--allowed-host`` naming its Service so the ``Host`` check stays on.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tide.api import kinds
from tide.cli._session import CommandError, Context, Kubeconfig, err, out, run_command
from tide.dashboard import running
from tide.kube.client import KubeClient
from tide.runtime.servers import CannotListen, parse_address

__all__ = ["run"]


async def _serve(
    address: str,
    kubeconfig: Kubeconfig,
    context: str | None,
    namespace: str | None,
    allowed_hosts: list[str],
) -> None:
    try:
        endpoint = parse_address(address)
    except ValueError as error:
        raise CommandError(str(error)) from None
    client = KubeClient.from_kubeconfig(kubeconfig, context=context, field_manager="tide")
    dry_run = KubeClient.from_kubeconfig(
        kubeconfig, context=context, field_manager=kinds.KUSTOMIZE_CONTROLLER
    )
    try:
        async with running(
            client, endpoint, namespace=namespace, dry_run=dry_run, allowed_hosts=allowed_hosts
        ) as url:
            out.print(f"tide dashboard serving {url}", markup=False, highlight=False)
            out.file.flush()
            err.print("press Ctrl-C to stop")
            await asyncio.Event().wait()
    except CannotListen as error:
        raise CommandError(str(error)) from None
    finally:
        await client.close()
        await dry_run.close()


def run(
    address: Annotated[
        str, typer.Option("--address", help="host:port to serve on (port 0 picks a free one).")
    ] = "127.0.0.1:9080",
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Show only this namespace (default: all)."),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Also answer requests naming this host (name, or name:port); repeatable. "
            "Given, only these and loopback are answered, even on every interface.",
        ),
    ] = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
) -> None:
    """Serve the web dashboard: Flux objects live, with reconcile, suspend and resume."""
    run_command(_serve(address, kubeconfig, context, namespace, list(allowed_host or ())))

"""``tide dashboard``: serve the web dashboard on this machine, as the kubeconfig's users.

Every context of the kubeconfig is served (``--context``, repeatable, serves only those), each
through its own credentials, so the page shows what each context's user may list and offers
only what that user may do on that cluster. In a cluster (``tide install --components-extra
dashboard``) the one context is its own ServiceAccount, with ``--allowed-host`` naming its
Service so the ``Host`` check stays on.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tide.cli._session import CommandError, Kubeconfig, err, out, run_command
from tide.dashboard import Fleet, running
from tide.kube.errors import KubeError
from tide.runtime.servers import CannotListen, parse_address

__all__ = ["run"]


async def _serve(
    address: str,
    kubeconfig: Kubeconfig,
    contexts: list[str],
    namespace: str | None,
    allowed_hosts: list[str],
) -> None:
    try:
        endpoint = parse_address(address)
    except ValueError as error:
        raise CommandError(str(error)) from None
    try:
        fleet = Fleet.from_kubeconfig(kubeconfig, contexts=contexts, namespace=namespace)
    except KubeError as error:
        raise CommandError(str(error)) from None
    try:
        async with running(fleet, endpoint, allowed_hosts=allowed_hosts) as url:
            out.print(f"tide dashboard serving {url}", markup=False, highlight=False)
            out.file.flush()
            for name in fleet.names:
                error = fleet.error_of(name)
                shown = f"unreachable: {error}" if error else "connected"
                err.print(f"context {name}: {shown}", markup=False, highlight=False)
            err.print("press Ctrl-C to stop")
            await asyncio.Event().wait()
    except CannotListen as error:
        raise CommandError(str(error)) from None
    finally:
        await fleet.close()


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
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            help="Serve only this kubeconfig context; repeatable "
            "(default: every context of the kubeconfig).",
        ),
    ] = None,
) -> None:
    """Serve the web dashboard: Flux objects live, with reconcile, suspend and resume."""
    contexts = list(context or ())
    run_command(_serve(address, kubeconfig, contexts, namespace, list(allowed_host or ())))

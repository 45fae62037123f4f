"""``tide controller``: run Tide's reconcilers against the current kubeconfig context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from tide import notification, source
from tide.cli import logs
from tide.kube.client import KubeClient
from tide.runtime.manager import LeadershipLost, Manager, ManagerOptions
from tide.runtime.servers import parse_address

__all__ = ["CONTROLLERS", "run"]

CONTROLLERS: dict[str, Callable[[Manager, source.SourceOptions], object]] = {
    "source": source.setup,
    "notification": lambda manager, _: notification.setup(manager),
}
"""Controllers by name, as ``--controllers`` takes them; each controller package adds one."""


def run(
    controllers: Annotated[
        str, typer.Option(help="Comma-separated controllers to run (default: all).")
    ] = ",".join(CONTROLLERS),
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig file (default: $KUBECONFIG, then in-cluster).")
    ] = None,
    context: Annotated[str | None, typer.Option(help="Kubeconfig context to use.")] = None,
    metrics_addr: Annotated[str, typer.Option(help="Where /metrics listens.")] = ":8080",
    health_addr: Annotated[str, typer.Option(help="Where /healthz and /readyz listen.")] = ":9440",
    leader_elect: Annotated[
        bool,
        typer.Option("--leader-elect/--no-leader-elect", help="Elect a leader before reconciling."),
    ] = True,
    leader_election_namespace: Annotated[
        str, typer.Option(help="Namespace of the leader-election Lease.")
    ] = "tide-system",
    lease_duration: Annotated[float, typer.Option(help="Lease duration, seconds.")] = 15.0,
    renew_deadline: Annotated[float, typer.Option(help="Renew deadline, seconds.")] = 10.0,
    retry_period: Annotated[float, typer.Option(help="Lease retry period, seconds.")] = 2.0,
    concurrent: Annotated[int, typer.Option(help="Concurrent reconciles per controller.")] = 4,
    storage_path: Annotated[
        Path, typer.Option(help="Folder for artifacts and the checkout cache.")
    ] = Path("/data"),
    storage_addr: Annotated[str, typer.Option(help="Where the artifact server listens.")] = ":9090",
    storage_adv_addr: Annotated[
        str | None,
        typer.Option(
            help="Address consumers download artifacts from (default: the bound address)."
        ),
    ] = None,
    artifact_retention_records: Annotated[int, typer.Option(help="Artifacts kept per object.")] = 2,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run Tide's controllers until SIGTERM or Ctrl-C."""
    logs.configure(log_level)
    chosen = [name.strip() for name in controllers.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(CONTROLLERS))
    if unknown or not chosen:
        raise typer.BadParameter(
            f"unknown controller(s) {', '.join(unknown) or '(none given)'}; "
            f"available: {', '.join(CONTROLLERS)}",
            param_hint="--controllers",
        )
    try:
        options = ManagerOptions(
            metrics=parse_address(metrics_addr),
            health=parse_address(health_addr),
            leader_election=leader_elect,
            lease_namespace=leader_election_namespace,
            lease_duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
            workers=concurrent,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    try:
        endpoint = parse_address(storage_addr)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--storage-addr") from error
    advertised = storage_adv_addr
    if advertised and "://" not in advertised:
        advertised = f"http://{advertised}"
    source_options = source.SourceOptions(
        storage_path=storage_path,
        storage_host=endpoint.host,
        storage_port=endpoint.port,
        advertised_url=advertised,
        retention=artifact_retention_records,
    )
    try:
        asyncio.run(_serve(chosen, kubeconfig, context, options, source_options))
    except LeadershipLost as error:
        typer.echo(f"tide: {error}; exiting so a new leader can take over", err=True)
        raise typer.Exit(1) from error


async def _serve(
    chosen: list[str],
    kubeconfig: Path | None,
    context: str | None,
    options: ManagerOptions,
    source_options: source.SourceOptions,
) -> None:
    client = KubeClient.from_kubeconfig(kubeconfig, context=context, field_manager="tide")
    manager = Manager(client, options)
    for name in chosen:
        CONTROLLERS[name](manager, source_options)
    manager.install_signal_handlers()
    try:
        await manager.run()
    finally:
        await client.close()

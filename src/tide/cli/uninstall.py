"""``tide uninstall``: remove Tide's controllers, CRDs and namespace, as ``flux uninstall`` does.

Tide's finalizers come off every Flux object first, so nothing is left stuck; the workloads
the controllers applied stay. ``--dry-run`` lists what would go and changes nothing;
``--silent`` skips the confirmation.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tide.cli._session import ClusterOptions, CommandError, cluster_command, err, run_command
from tide.install import Removal, uninstall

__all__ = ["run"]

Option = typer.Option


@cluster_command(timeout="5m")
def run(
    options: ClusterOptions,
    keep_namespace: Annotated[
        bool, Option("--keep-namespace", help="Leave the namespace in place.")
    ] = False,
    dry_run: Annotated[bool, Option("--dry-run", help="Only list what would be removed.")] = False,
    silent: Annotated[bool, Option("--silent", "-s", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove Tide's controllers, CRDs (and every Flux object) and its namespace."""
    if not (silent or dry_run) and not typer.confirm(
        f"Are you sure you want to delete Tide and its custom resource definitions "
        f"(namespace {options.namespace})?"
    ):
        err.print("[red]✗[/] uninstall cancelled")
        raise typer.Exit(1)
    run_command(_uninstall(options, keep_namespace=keep_namespace, dry_run=dry_run))


async def _uninstall(options: ClusterOptions, *, keep_namespace: bool, dry_run: bool) -> None:
    suffix = " (dry run)" if dry_run else ""

    def report(removal: Removal) -> None:
        err.print(f"► {removal}{suffix}")

    async with options.client() as client:
        try:
            with err.status("uninstalling"):
                await uninstall(
                    client,
                    namespace=options.namespace,
                    keep_namespace=keep_namespace,
                    dry_run=dry_run,
                    timeout=options.timeout,
                    report=report,
                )
        except TimeoutError as error:
            raise CommandError(str(error)) from None
    err.print(f"[green]✔[/] uninstall finished{suffix}")

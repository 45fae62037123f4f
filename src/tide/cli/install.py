"""``tide install``: put Tide's CRDs and controllers on the cluster, or print them (``--export``).

The flags are ``flux install``'s, shared with ``tide bootstrap git``
(:mod:`tide.cli._install_flags`). Re-running upgrades in place (server-side apply; an unchanged
object stays unchanged), and on a cluster that runs Flux the CRDs are taken over without
touching a stored object. The command then waits, with a spinner, until every
controller Deployment is Available.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tide import yamlio
from tide.cli._install_flags import install_command
from tide.cli._session import ClusterOptions, CommandError, err, out, run_command
from tide.install import (
    InstallError,
    InstallOptions,
    apply_documents,
    render,
    wait_available,
)
from tide.kube.ssa import Action

__all__ = ["run"]

Option = typer.Option


@install_command(timeout="5m")
def run(
    cluster: ClusterOptions,
    install: InstallOptions,
    export: Annotated[
        bool, Option("--export", help="Print the manifests as YAML; touch no cluster.")
    ] = False,
) -> None:
    """Install or upgrade Tide: CRDs, RBAC, controllers, Services and NetworkPolicies."""
    try:
        documents = render(install)
    except InstallError as error:
        err.print(f"[red]✗[/] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    if export:
        out.file.write("---\n".join(yamlio.dump(doc) for doc in documents))
        return
    run_command(_install(documents, cluster))


async def _install(documents: list[dict], options: ClusterOptions) -> None:
    async with options.client() as client:
        with err.status("applying manifests") as status:
            try:
                applied = await apply_documents(client, documents, timeout=options.timeout)
            except TimeoutError as error:  # a CRD the API server never established
                raise CommandError(str(error)) from None
            changed = [item for item in applied if item.action is not Action.UNCHANGED]
            for item in changed:
                err.print(f"► {item}")
            err.print(
                f"[green]✔[/] {len(applied)} objects applied, {len(changed)} created or changed"
            )

            def waiting(names: list[str]) -> None:
                if names:
                    status.update(f"waiting for {', '.join(names)} to be Available")

            try:
                await wait_available(client, documents, timeout=options.timeout, progress=waiting)
            except TimeoutError as error:
                raise CommandError(str(error)) from None
    deployments = [doc["metadata"]["name"] for doc in documents if doc["kind"] == "Deployment"]
    err.print(f"[green]✔[/] {', '.join(deployments)} Available")
    err.print("[green]✔[/] install finished")

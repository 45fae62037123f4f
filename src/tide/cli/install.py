"""``tide install``: put Tide's CRDs and controllers on the cluster, or print them (``--export``).

The flags are ``flux install``'s. Re-running upgrades in place (server-side apply; an
unchanged object stays unchanged), and on a cluster that runs Flux the CRDs are taken over
without touching a stored object. The command then waits, with a spinner, until every
controller Deployment is Available.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tide import yamlio
from tide.cli._session import ClusterOptions, CommandError, cluster_command, err, out, run_command
from tide.install import (
    DEFAULT_COMPONENTS,
    EXTRA_COMPONENTS,
    InstallError,
    InstallOptions,
    apply_documents,
    render,
    wait_available,
)
from tide.kube.ssa import Action

__all__ = ["run"]

Option = typer.Option
_DEFAULTS = InstallOptions()


@cluster_command(timeout="5m")
def run(
    options: ClusterOptions,
    export: Annotated[
        bool, Option("--export", help="Print the manifests as YAML; touch no cluster.")
    ] = False,
    components: Annotated[
        str,
        Option(help=f"Components to install, comma-separated ({', '.join(DEFAULT_COMPONENTS)})."),
    ] = ",".join(DEFAULT_COMPONENTS),
    components_extra: Annotated[
        str, Option(help=f"More components, comma-separated ({', '.join(EXTRA_COMPONENTS)}).")
    ] = "",
    registry: Annotated[str, Option(help="Container registry of the tide image.")] = (
        _DEFAULTS.registry
    ),
    image_pull_secret: Annotated[
        str | None, Option(help="Secret (in --namespace) to pull the image with.")
    ] = None,
    version: Annotated[str, Option("--version", "-v", help="Tag of the tide image.")] = (
        _DEFAULTS.version
    ),
    network_policy: Annotated[
        bool,
        Option(
            "--network-policy/--no-network-policy",
            help="Restrict ingress to the namespace, as Flux's NetworkPolicies do.",
        ),
    ] = True,
    watch_all_namespaces: Annotated[
        bool,
        Option(
            "--watch-all-namespaces/--no-watch-all-namespaces",
            help="Watch every namespace; false: only --namespace.",
        ),
    ] = True,
    cluster_domain: Annotated[str, Option(help="The cluster's DNS domain.")] = (
        _DEFAULTS.cluster_domain
    ),
) -> None:
    """Install or upgrade Tide: CRDs, RBAC, controllers, Services and NetworkPolicies."""
    install = InstallOptions(
        namespace=options.namespace,
        components=_names(components),
        components_extra=_names(components_extra),
        registry=registry,
        image_pull_secret=image_pull_secret,
        version=version,
        network_policy=network_policy,
        watch_all_namespaces=watch_all_namespaces,
        cluster_domain=cluster_domain,
    )
    try:
        documents = render(install)
    except InstallError as error:
        err.print(f"[red]✗[/] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    if export:
        out.file.write("---\n".join(yamlio.dump(doc) for doc in documents))
        return
    run_command(_install(documents, options))


def _names(flag: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in flag.split(",") if name.strip())


async def _install(documents: list[dict], options: ClusterOptions) -> None:
    async with options.client() as client:
        with err.status("applying manifests") as status:
            applied = await apply_documents(client, documents, timeout=options.timeout)
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

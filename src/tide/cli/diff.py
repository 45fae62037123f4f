"""``tide diff kustomization NAME --path DIR``: what applying DIR would change in the cluster.

``tide diff helmrelease NAME``: what the controller's next install or upgrade would change — the
release rendered as the controller renders it (:mod:`tide.helm.preview`) and compared the same
way, so a values change not yet reconciled (a suspended release, say) shows before it lands.

DIR is built as the controller builds it (:mod:`tide.inspect.local_build`); each object is then
server-side applied as a *dry run* with the controller's field manager, and the result compared
with the live object the way the controller decides ``configured`` from ``unchanged``
(:func:`tide.kube.ssa.diff.has_drifted`). Objects in the Kustomization's inventory that DIR no
longer holds are shown as deleted when ``spec.prune`` is on. Nothing is written. Secret values are
masked. Exit codes, as ``flux diff``: 0 no differences, 1 differences, 2 an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tide.api import kinds
from tide.cli._session import ClusterOptions, CommandError, cluster_command, out, run_command
from tide.helm.preview import PreviewError, preview
from tide.inspect.diff import changes_for, masked, subject, unified
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type

__all__ = ["Differences", "app", "changes_for", "masked", "release_changes"]

app = typer.Typer(help="Show what applying local changes would do.", no_args_is_help=True)


class Differences(typer.Exit):
    """There are differences: exit 1 after printing them.

    An exit, not an error, so :func:`~tide.cli._session.run_command` lets it through untouched.
    """

    def __init__(self) -> None:
        super().__init__(1)


async def release_changes(client: KubeClient, obj: dict[str, Any]) -> list[str]:
    """Return what the next Helm action for HelmRelease ``obj`` would change, one entry each.

    Raises:
        CommandError: the release cannot be rendered, or an object cannot be compared.
    """
    try:
        found = await preview(obj, client)
    except PreviewError as error:
        raise CommandError(str(error)) from None
    failed = [f"{subject(each.obj)}: {each.error}" for each in found.compared if each.error]
    if failed:
        raise CommandError(f"cannot compare with the cluster: {'; '.join(failed)}")
    changes = []
    for each in found.compared:
        if each.live is None or each.dry_run is None:
            changes.append(f"► {subject(each.obj)} created")
        elif each.drifted:
            changes.append(f"► {subject(each.obj)} drifted\n{unified(each.live, each.dry_run)}")
    changes.extend(f"► {ref} deleted" for ref in found.deleted)
    return changes


def _print_changes(changes: list[str]) -> None:
    for change in changes:
        out.print(change, markup=False, highlight=False, soft_wrap=True)
    if changes:
        raise Differences


async def _diff_release(name: str, options: ClusterOptions) -> None:
    async with options.client(field_manager=kinds.HELM_CONTROLLER) as client:
        obj = await client.get_or_none(
            resource_type("HelmRelease"), name, namespace=options.namespace
        )
        if obj is None:
            raise CommandError(f'HelmRelease "{name}" not found in "{options.namespace}" namespace')
        changes = await release_changes(client, obj)
    _print_changes(changes)


async def _diff(name: str, folder: Path, options: ClusterOptions) -> None:
    rt = resource_type("Kustomization")
    async with options.client(field_manager=kinds.KUSTOMIZE_CONTROLLER) as client:
        obj = await client.get_or_none(rt, name, namespace=options.namespace)
        if obj is None:
            raise CommandError(
                f'Kustomization "{name}" not found in "{options.namespace}" namespace'
            )
        changes = await changes_for(client, obj, folder)
    _print_changes(changes)


@app.command("kustomization")
@cluster_command
def kustomization(
    options: ClusterOptions,
    name: Annotated[str, typer.Argument(help="The Kustomization's name.")],
    path: Annotated[Path, typer.Option("--path", help="The local folder standing for spec.path.")],
) -> None:
    """Show the server-side dry-run diff of a local folder against the live cluster."""
    try:
        run_command(_diff(name, path, options), failure_code=2)
    except Differences:
        raise typer.Exit(1) from None


app.command("ks", hidden=True)(kustomization)


@app.command("helmrelease")
@cluster_command
def helmrelease(
    options: ClusterOptions,
    name: Annotated[str, typer.Argument(help="The HelmRelease's name.")],
) -> None:
    """Show what the next install or upgrade would change: Helm's dry run against the cluster."""
    try:
        run_command(_diff_release(name, options), failure_code=2)
    except Differences:
        raise typer.Exit(1) from None


app.command("hr", hidden=True)(helmrelease)

"""``tide tree kustomization NAME``: what a Kustomization manages, as a tree.

Read from ``status.inventory``; a managed Kustomization or HelmRelease is expanded in turn, so
the whole reach of a root Kustomization (``flux-system``) shows in one picture, as
``flux tree`` shows it. Objects are named ``Kind/namespace/name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.tree import Tree

from tide.cli import _inventory
from tide.cli._session import (
    ClusterOptions,
    CommandError,
    cluster_command,
    print_wide,
    run_command,
)
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type

__all__ = ["app", "grow"]

app = typer.Typer(help="Print the objects a Flux object manages as a tree.", no_args_is_help=True)

_EXPANDED = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
}
"""Managed kinds whose own inventory is shown beneath them."""


async def grow(client: KubeClient, tree: Tree, obj: Mapping[str, Any], *, depth: int = 0) -> None:
    """Add ``obj``'s inventory to ``tree``, expanding managed Kustomizations and HelmReleases."""
    try:
        entries = _inventory.entries_of(obj)
    except ValueError as error:
        tree.add(f"[red]{error}[/]")
        return
    for ref in entries:
        branch = tree.add(ref.subject)
        if (ref.group, ref.kind) in _EXPANDED and depth < 20:
            child = await client.get_or_none(
                resource_type(ref.kind), ref.name, namespace=ref.namespace
            )
            if child is not None:
                await grow(client, branch, child, depth=depth + 1)


async def _tree(kind: str, name: str, options: ClusterOptions) -> None:
    async with options.client() as client:
        obj = await client.get_or_none(resource_type(kind), name, namespace=options.namespace)
        if obj is None:
            raise CommandError(f'{kind} "{name}" not found in "{options.namespace}" namespace')
        tree = Tree(f"{kind}/{options.namespace}/{name}", guide_style="dim")
        await grow(client, tree, obj)
        print_wide(tree)


def _command(kind: str) -> object:
    @cluster_command
    def command(
        options: ClusterOptions, name: Annotated[str, typer.Argument(help="The object's name.")]
    ) -> None:
        run_command(_tree(kind, name, options))

    return command


app.command("kustomization", help="Print a Kustomization's objects as a tree.")(
    _command("Kustomization")
)
app.command("ks", hidden=True)(_command("Kustomization"))
app.command("helmrelease", help="Print a HelmRelease's objects as a tree.")(_command("HelmRelease"))
app.command("hr", hidden=True)(_command("HelmRelease"))

"""``tide tree kustomization NAME``: what a Kustomization manages, as a tree.

Read from ``status.inventory``; a managed Kustomization or HelmRelease is expanded in turn, so
the whole reach of a root Kustomization (``flux-system``) shows in one picture, as
``flux tree`` shows it. Objects are named ``Kind/namespace/name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from tide.cli._session import (
    ClusterOptions,
    CommandError,
    cluster_command,
    print_wide,
    run_command,
)
from tide.inspect import inventory as _inventory
from tide.inspect.why import Fetch
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type

__all__ = ["app", "grow"]

app = typer.Typer(help="Print the objects a Flux object manages as a tree.", no_args_is_help=True)


def _fetcher(client: KubeClient) -> Fetch:
    async def fetch(kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        return await client.get_or_none(resource_type(kind), name, namespace=namespace)

    return fetch


def _add(tree: Tree, nodes: tuple[_inventory.Node, ...]) -> None:
    for node in nodes:
        branch = tree.add(node.label if node.ref is not None else f"[red]{escape(node.error)}[/]")
        _add(branch, node.children)


async def grow(client: KubeClient, tree: Tree, obj: Mapping[str, Any]) -> None:
    """Add ``obj``'s inventory to ``tree``, expanding managed Kustomizations and HelmReleases."""
    _add(tree, await _inventory.tree_of(_fetcher(client), obj))


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

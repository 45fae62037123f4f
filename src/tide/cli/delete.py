"""``tide delete KIND NAME``: delete a Flux object, after a confirmation unless ``--silent``.

The controller then finalizes it as it would for ``kubectl delete`` (pruning per
``spec.prune``, uninstalling a release). KIND is written as for ``suspend``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tide.cli._nouns import Noun, register_per_kind
from tide.cli._session import ClusterOptions, CommandError, cluster_command, err, run_command
from tide.kube.resources import resource_type

__all__ = ["app"]

app = typer.Typer(help="Delete Flux objects.", no_args_is_help=True)


async def _delete(noun: Noun, name: str, silent: bool, options: ClusterOptions) -> None:
    rt = resource_type(noun.kind)
    async with options.client() as client:
        if await client.get_or_none(rt, name, namespace=options.namespace) is None:
            raise CommandError(f'{noun.kind} "{name}" not found in "{options.namespace}" namespace')
        if not silent and not typer.confirm(
            f"Are you sure you want to delete {noun.kind} {options.namespace}/{name}?"
        ):
            raise CommandError("deletion cancelled")
        err.print(f"► deleting {noun.kind} {name} in {options.namespace} namespace")
        await client.delete(rt, name, namespace=options.namespace)
        err.print(f"[green]✔[/] {noun.kind} deleted")


def _command(noun: Noun) -> object:
    @cluster_command
    def command(
        options: ClusterOptions,
        name: Annotated[str, typer.Argument(help="The object's name.")],
        silent: Annotated[bool, typer.Option("--silent", "-s", help="Do not ask.")] = False,
    ) -> None:
        run_command(_delete(noun, name, silent, options))

    return command


register_per_kind(app, _command, verb="Delete", help=lambda noun: f"Delete {noun.a_kind}.")

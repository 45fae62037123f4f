"""``tide export KIND NAME | --all``: Flux objects as YAML to commit back to Git.

What a user would write: ``apiVersion``, ``kind``, ``metadata`` (name, namespace, labels,
annotations — minus what the server and ``kubectl apply`` maintain) and ``spec``; no status.
KIND is written as for ``get``'s singular (``kustomization``, ``source git``, ``image policy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from tide.cli._nouns import Noun, register_per_kind
from tide.cli._session import (
    ClusterOptions,
    CommandError,
    cluster_command,
    print_yaml,
    run_command,
)
from tide.kube.resources import resource_type

__all__ = ["app", "exported"]

app = typer.Typer(help="Export Flux objects as YAML.", no_args_is_help=True)

_SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_REQUEST_ANNOTATIONS = ("reconcile.fluxcd.io/",)
"""Annotations a one-off request left behind (``requestedAt``, ``forceAt``): not configuration."""


def exported(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``obj`` as its author would write it."""
    metadata = obj.get("metadata") or {}
    kept: dict[str, Any] = {"name": metadata.get("name")}
    if metadata.get("namespace"):
        kept["namespace"] = metadata["namespace"]
    if metadata.get("labels"):
        kept["labels"] = dict(metadata["labels"])
    annotations = {
        key: value
        for key, value in (metadata.get("annotations") or {}).items()
        if key not in _SERVER_ANNOTATIONS and not key.startswith(_REQUEST_ANNOTATIONS)
    }
    if annotations:
        kept["annotations"] = annotations
    document = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": kept}
    if "spec" in obj:
        document["spec"] = obj["spec"]
    return document


async def _export(noun: Noun, name: str | None, options: ClusterOptions) -> None:
    rt = resource_type(noun.kind)
    async with options.client() as client:
        if name is not None:
            obj = await client.get_or_none(rt, name, namespace=options.namespace)
            if obj is None:
                raise CommandError(
                    f'{noun.kind} "{name}" not found in "{options.namespace}" namespace'
                )
            objects = [obj]
        else:
            objects, _ = await client.list(rt, namespace=options.list_namespace)
            objects.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    for obj in objects:
        print_yaml(exported(obj))


def _command(noun: Noun) -> object:
    @cluster_command(all_namespaces=True)
    def command(
        options: ClusterOptions,
        name: Annotated[str | None, typer.Argument(help="The object's name (or --all).")] = None,
        every: Annotated[bool, typer.Option("--all", help="Every object of the kind.")] = False,
    ) -> None:
        if (name is None) == (not every):
            raise typer.BadParameter("give an object's name or --all, not both", param_hint="NAME")
        run_command(_export(noun, name, options))

    return command


register_per_kind(app, _command, verb="Export", help=lambda noun: f"Export {noun.a_kind} as YAML.")

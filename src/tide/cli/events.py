"""``tide events``: the Kubernetes Events of Flux objects, as ``flux events`` shows them.

``--for Kind/name`` narrows to one object (``Kustomization/apps``); without it every Flux kind's
events in the namespace are shown (``-A``: every namespace). Columns: LAST SEEN, TYPE, REASON,
OBJECT, MESSAGE, oldest first; ``--watch`` then prints new ones as they come.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.table import Table

from tide.api.kinds import KINDS
from tide.cli._session import (
    ClusterOptions,
    cluster_command,
    err,
    print_wide,
    run_command,
)
from tide.inspect.ages import age, event_time
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeGone

__all__ = ["EventFilter", "age", "run"]

_FLUX_KINDS = frozenset(info.kind for info in KINDS)


@dataclass(frozen=True)
class EventFilter:
    """Which events to show: of one object (``--for``) or of every Flux kind."""

    kind: str | None = None
    name: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> EventFilter:
        """Parse ``--for Kind/name``; the kind is matched case-insensitively.

        Raises:
            ValueError: not of the form ``Kind/name``, or a kind Tide does not serve.
        """
        if text is None:
            return cls()
        kind, slash, name = text.partition("/")
        if not slash or not kind or not name:
            raise ValueError(f"--for {text!r}: expected Kind/name, e.g. Kustomization/apps")
        for known in _FLUX_KINDS:
            if known.lower() == kind.lower():
                return cls(known, name)
        raise ValueError(f"--for {text!r}: {kind!r} is not a kind Tide serves")

    def keeps(self, event: Mapping[str, Any]) -> bool:
        """Return whether ``event`` is about the selected object(s)."""
        involved = event.get("involvedObject") or {}
        if self.kind is None:
            return involved.get("kind") in _FLUX_KINDS
        return involved.get("kind") == self.kind and involved.get("name") == self.name


def _table(events: list[Mapping[str, Any]], *, with_namespace: bool, header: bool = True) -> Table:
    table = Table(
        box=None, pad_edge=False, show_edge=False, header_style="bold", show_header=header
    )
    titles = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
    for title in ("NAMESPACE", *titles) if with_namespace else titles:
        table.add_column(title, no_wrap=title != "MESSAGE", overflow="fold")
    for event in events:
        involved = event.get("involvedObject") or {}
        style = "red" if event.get("type") == "Warning" else ""
        cells = [
            age(event_time(event)),
            f"[{style}]{event.get('type', '')}[/]" if style else str(event.get("type", "")),
            str(event.get("reason", "")),
            f"{involved.get('kind', '')}/{involved.get('name', '')}",
            " ".join(str(event.get("message", "")).split()),
        ]
        namespace = str((event.get("metadata") or {}).get("namespace", ""))
        table.add_row(*([namespace, *cells] if with_namespace else cells))
    return table


async def _events(options: ClusterOptions, selected: EventFilter, watch: bool) -> None:
    async with options.client() as client:
        listed, version = await client.list(resources.EVENT, namespace=options.list_namespace)
        shown = sorted((e for e in listed if selected.keeps(e)), key=event_time)
        if shown:
            print_wide(_table(shown, with_namespace=options.all_namespaces))
        elif not watch:
            where = (
                "all namespaces" if options.all_namespaces else f'"{options.namespace}" namespace'
            )
            err.print(f"no events found in {where}")
        if watch:
            await _follow(client, options, selected, version)


async def _follow(
    client: KubeClient, options: ClusterOptions, selected: EventFilter, version: str
) -> None:
    while True:
        try:
            async for change, event in client.watch(
                resources.EVENT, resource_version=version, namespace=options.list_namespace
            ):
                version = (event.get("metadata") or {}).get("resourceVersion") or version
                if change != "DELETED" and selected.keeps(event):
                    table = _table([event], with_namespace=options.all_namespaces, header=False)
                    print_wide(table)
        except KubeGone:
            _, version = await client.list(resources.EVENT, namespace=options.list_namespace)


@cluster_command(all_namespaces=True)
def run(
    options: ClusterOptions,
    for_: Annotated[
        str | None, typer.Option("--for", help="Show the events of one object: Kind/name.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Print new events as they come.")
    ] = False,
) -> None:
    """Show the events of Flux objects."""
    try:
        selected = EventFilter.parse(for_)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--for") from None
    if selected.kind is not None and options.all_namespaces:
        raise typer.BadParameter("--for names one object: give its namespace with -n, not -A")
    run_command(_events(options, selected, watch))

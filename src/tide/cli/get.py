"""``tide get``: Flux's ``flux get`` — one table per kind, Flux's columns, ``--watch``.

``tide get kustomizations``, ``tide get sources git``, ``tide get images policy``,
``tide get all`` … take ``-n``/``-A``, an optional object name, ``--status-selector
ready=false`` and ``-o table|json|yaml``; the words come from :mod:`tide.cli._nouns`, so every
kind Tide serves is listed. Exit codes: 0 when listed (even when nothing matched: Flux prints
"no … objects found" and succeeds), 1 when the object named is absent or the cluster cannot be
reached, 2 for bad flags.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

import typer
import yaml
from rich.table import Table

from tide.cli._nouns import GROUPS, Noun, nouns
from tide.cli._session import (
    ClusterOptions,
    CommandError,
    cluster_command,
    err,
    out,
    print_wide,
    run_command,
)
from tide.inspect import rows as _rows
from tide.kube.client import KubeClient
from tide.kube.errors import KubeGone, KubeNotFound
from tide.kube.resources import resource_type
from tide.kube.retry import served

__all__ = ["app", "list_rows", "render_table"]

app = typer.Typer(help="Get the status of Flux objects.", no_args_is_help=True)

Output = Annotated[str, typer.Option("--output", "-o", help="table, json or yaml.")]
Watch = Annotated[bool, typer.Option("--watch", "-w", help="After listing, watch for changes.")]
Selector = Annotated[
    str | None,
    typer.Option("--status-selector", help="Keep objects whose condition matches: ready=false."),
]
Name = Annotated[str | None, typer.Argument(help="One object's name; all of them by default.")]


def render_table(
    kind: str, rows: Sequence[_rows.Row], *, with_namespace: bool, prefix: str = ""
) -> Table:
    """Return the rich table ``get`` prints for ``rows`` of ``kind``."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    titles = _rows.columns_for(kind)
    for title in ("NAMESPACE", *titles) if with_namespace else titles:
        table.add_column(title, overflow="fold", no_wrap=title != "MESSAGE")
    for row in rows:
        ready_style = {"True": "green", "False": "red"}.get(row.ready, "yellow")
        cells = list(_rows.table_cells(row, with_namespace=with_namespace, prefix=prefix))
        cells[-2] = f"[{ready_style}]{cells[-2]}[/]"
        table.add_row(*cells)
    return table


async def list_rows(
    client: KubeClient,
    noun: Noun,
    options: ClusterOptions,
    *,
    name: str | None = None,
    selector: _rows.StatusSelector | None = None,
) -> tuple[list[_rows.Row], str]:
    """Return the rows of ``noun``'s objects in scope, sorted, and the list's resourceVersion.

    Raises:
        CommandError: ``name`` was given and no such object exists.
    """
    rt = resource_type(noun.kind)
    if name is not None:
        obj = await served(lambda: client.get_or_none(rt, name, namespace=options.namespace))
        if obj is None:
            raise CommandError(f'{noun.kind} "{name}" not found in "{options.namespace}" namespace')
        objects, version = [obj], str(obj["metadata"].get("resourceVersion") or "")
    else:
        objects, version = await served(lambda: client.list(rt, namespace=options.list_namespace))
    rows = [_rows.row_of(obj, has_status=noun.info.has_status) for obj in objects]
    rows = [row for row in rows if selector is None or selector.keeps(row)]
    return sorted(rows, key=lambda row: (row.namespace, row.name)), version


def _print_rows(noun: Noun, rows: list[_rows.Row], options: ClusterOptions, output: str) -> None:
    if output in ("json", "yaml"):
        document = [row.as_json() for row in rows]
        text = json.dumps(document, indent=2) if output == "json" else yaml.safe_dump(document)
        out.print(text, markup=False, highlight=False, end="" if output == "yaml" else "\n")
        return
    if not rows:
        where = "all namespaces" if options.all_namespaces else f'"{options.namespace}" namespace'
        err.print(f"no {noun.kind} objects found in {where}")
        return
    print_wide(render_table(noun.kind, rows, with_namespace=options.all_namespaces))


async def _get(
    selected: Sequence[Noun],
    options: ClusterOptions,
    *,
    name: str | None,
    selector: _rows.StatusSelector | None,
    output: str,
    watch: bool,
    prefixed: bool,
) -> None:
    async with options.client() as client:
        listed: list[tuple[Noun, list[_rows.Row]]] = []
        versions: dict[str, str] = {}
        for noun in selected:
            try:
                rows, versions[noun.kind] = await list_rows(
                    client, noun, options, name=name, selector=selector
                )
            except KubeNotFound:
                if not prefixed:  # one kind asked for: say its CRD is missing
                    raise
                continue  # ``get all`` on a cluster without that kind's CRD, as ``flux get all``
            listed.append((noun, rows))
        if prefixed and output == "table":
            _print_prefixed(listed, options)
        elif prefixed:
            _print_rows(selected[0], [row for _, rows in listed for row in rows], options, output)
        else:
            _print_rows(selected[0], listed[0][1], options, output)
        if watch:
            await _watch(client, selected[0], options, versions[selected[0].kind], selector, name)


def _print_prefixed(listed: list[tuple[Noun, list[_rows.Row]]], options: ClusterOptions) -> None:
    """``get all`` and ``get sources all``: a table per kind, names as ``kind/name``."""
    shown = [(noun, rows) for noun, rows in listed if rows]
    if not shown:
        err.print("no Flux objects found")
    for index, (noun, rows) in enumerate(shown):
        if index:
            out.print()
        prefix = f"{noun.kind.lower()}/"
        table = render_table(noun.kind, rows, with_namespace=options.all_namespaces, prefix=prefix)
        print_wide(table)


async def _watch(
    client: KubeClient,
    noun: Noun,
    options: ClusterOptions,
    version: str,
    selector: _rows.StatusSelector | None,
    name: str | None,
) -> None:
    """Print a row each time an object of ``noun`` (the one called ``name``) changes."""
    rt = resource_type(noun.kind)
    while True:
        try:
            async for _, obj in client.watch(
                rt, resource_version=version, namespace=options.list_namespace
            ):
                version = (obj.get("metadata") or {}).get("resourceVersion") or version
                row = _rows.row_of(obj, has_status=noun.info.has_status)
                if name is not None and row.name != name:
                    continue
                if selector is None or selector.keeps(row):
                    table = render_table(noun.kind, [row], with_namespace=options.all_namespaces)
                    table.show_header = False
                    print_wide(table)
        except KubeGone:
            _, version = await client.list(rt, namespace=options.list_namespace)


def _command(selected: tuple[Noun, ...], *, prefixed: bool, takes_name: bool) -> object:
    @cluster_command(all_namespaces=True)
    def command(
        options: ClusterOptions,
        name: Name = None,
        watch: Watch = False,
        status_selector: Selector = None,
        output: Output = "table",
    ) -> None:
        if output not in ("table", "json", "yaml"):
            raise typer.BadParameter("expected table, json or yaml", param_hint="--output")
        if watch and prefixed:
            raise typer.BadParameter("--watch takes one kind, not a group", param_hint="--watch")
        selector = None
        if status_selector is not None:
            try:
                selector = _rows.StatusSelector.parse(status_selector)
            except ValueError as error:
                raise typer.BadParameter(str(error), param_hint="--status-selector") from None
        if name is not None and not takes_name:
            raise typer.BadParameter("a group takes no object name", param_hint="NAME")
        run_command(
            _get(
                selected,
                options,
                name=name,
                selector=selector,
                output=output,
                watch=watch,
                prefixed=prefixed,
            )
        )

    return command


def _register() -> None:
    every = nouns()
    groups = {group: typer.Typer(help=f"Get {plural}.") for group, plural in GROUPS.items()}
    for group, plural in GROUPS.items():
        members = tuple(noun for noun in every if noun.group == group)
        groups[group].command("all", help=f"Get every kind of {plural}.")(
            _command(members, prefixed=True, takes_name=False)
        )
        app.add_typer(groups[group], name=plural, help=f"Get {plural} and their status.")
    for noun in every:
        command = _command((noun,), prefixed=False, takes_name=True)
        where = groups[noun.group] if noun.group else app
        where.command(noun.plural, help=f"Get {noun.kind} objects and their status.")(command)
        for alias in noun.aliases:
            where.command(alias, hidden=True)(command)
    app.command("all", help="Get every Flux object and its status.")(
        _command(every, prefixed=True, takes_name=False)
    )


_register()

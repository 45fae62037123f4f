"""``tide why KIND NAME``: one answer to "why is this not Ready?".

Prints the chain from the object to the root cause — through ``dependsOn``, sources and charts —
and the cause itself, e.g.::

    ✗ Kustomization/flux-system/apps is not Ready (DependencyNotReady): dependency … is not ready
      → depends on Kustomization/flux-system/infra: not Ready (BuildFailed): kustomization path …
    root cause: Kustomization/flux-system/infra — BuildFailed: kustomization path not found …

Exit code 0 when the object is Ready, 1 when it is not (or is missing), 2 for bad flags. KIND is
written as for ``reconcile`` (``kustomization``, ``helmrelease``, ``source git`` …).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tide.cli._nouns import Noun, register_per_kind
from tide.cli._session import (
    ClusterOptions,
    CommandError,
    cluster_command,
    print_wide,
    run_command,
)
from tide.inspect.why import Link, explain
from tide.kube.resources import resource_type

__all__ = ["app", "describe"]

app = typer.Typer(help="Explain why a Flux object is not Ready.", no_args_is_help=True)


def _state_text(link: Link) -> str:
    detail = f" ({link.reason})" if link.reason else ""
    return f"{link.state}{detail}: {link.message}" if link.message else f"{link.state}{detail}"


def describe(chain: list[Link]) -> list[str]:
    """Return the lines ``why`` prints for ``chain``."""
    first, *rest = chain
    if first.state == "Ready":
        return [f"✔ {first.ref} is Ready: {first.message}"]
    lines = [f"✗ {first.ref} is {_state_text(first)}"]
    lines += [f"  → {link.relation} {link.ref}: {_state_text(link)}" for link in rest]
    cause = chain[-1]
    if cause.state == "not found":
        lines.append(f"root cause: {cause.ref} does not exist")
    elif cause.state == "suspended":
        lines.append(f"root cause: {cause.ref} is suspended (tide resume resumes it)")
    elif cause.state == "Ready":
        lines.append(f"root cause: {first.ref} itself — {first.reason}: {first.message}")
    else:
        lines.append(f"root cause: {cause.ref} — {cause.reason or cause.state}: {cause.message}")
    return lines


async def _why(noun: Noun, name: str, options: ClusterOptions) -> None:
    async with options.client() as client:

        async def fetch(kind: str, each: str, namespace: str) -> dict[str, Any] | None:
            try:
                rt = resource_type(kind)
            except KeyError:
                return None
            return await client.get_or_none(rt, each, namespace=namespace)

        chain = await explain(fetch, noun.kind, name, options.namespace)
    if chain[0].state == "not found":
        raise CommandError(f'{noun.kind} "{name}" not found in "{options.namespace}" namespace')
    for line in describe(chain):
        print_wide(line, markup=False)
    if chain[0].state != "Ready":
        raise _NotReady


class _NotReady(Exception):
    """The object is not Ready: exit 1 after the explanation (already printed)."""


def _command(noun: Noun) -> object:
    @cluster_command
    def command(
        options: ClusterOptions, name: Annotated[str, typer.Argument(help="The object's name.")]
    ) -> None:
        try:
            run_command(_why(noun, name, options))
        except _NotReady:
            raise typer.Exit(1) from None

    return command


register_per_kind(
    app,
    _command,
    verb="Explain",
    help=lambda noun: f"Explain why {noun.a_kind} is not Ready.",
    include=lambda noun: noun.info.has_status,  # v1beta3 Alerts and Providers have no Ready
)

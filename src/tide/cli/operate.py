"""``tide suspend | resume | reconcile``: Flux's verbs for pausing and nudging objects.

* ``suspend KIND NAME`` sets ``spec.suspend: true``; the controllers then leave the object alone.
* ``resume KIND NAME`` sets it back to false and asks for a reconcile, then waits for it.
* ``reconcile KIND NAME`` sets ``reconcile.fluxcd.io/requestedAt`` to now and waits until the
  object's ``status.lastHandledReconcileAt`` says that request was handled and ``Ready`` has a
  verdict. ``--with-source`` first does the same to the object's source (a Kustomization's
  ``sourceRef``; a HelmRelease's HelmChart or ``chartRef``); on a HelmRelease ``--force`` also
  sets ``reconcile.fluxcd.io/forceAt`` (one upgrade even when nothing changed) and ``--reset``
  ``reconcile.fluxcd.io/resetAt`` (forget the failure counts), as ``flux reconcile hr`` does.

KIND is written as in Flux: ``kustomization``, ``helmrelease``, ``source git``, ``image update``,
``alert``, ``alert-provider``, ``receiver`` … (see :mod:`tide.cli._nouns`). ``--all`` acts on
every object of the kind in the namespace. Exit codes: 0 done (and, when waiting, Ready=True);
1 the object is missing or suspended, the reconcile failed (its Ready message is printed) or
timed out; 2 bad flags.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from tide.api import keys
from tide.api.conditions import getter
from tide.cli._nouns import UNRECONCILED, Noun, find_noun, register_per_kind
from tide.cli._session import ClusterOptions, CommandError, cluster_command, err, run_command
from tide.inspect import requests
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type

__all__ = ["reconcile_app", "request_reconcile", "resume_app", "suspend_app", "wait_handled"]

suspend_app = typer.Typer(help="Suspend the reconciliation of Flux objects.", no_args_is_help=True)
resume_app = typer.Typer(help="Resume suspended Flux objects.", no_args_is_help=True)
reconcile_app = typer.Typer(help="Reconcile Flux objects now.", no_args_is_help=True)

_POLL = 0.5
"""Seconds between looks at an object being reconciled (Flux's CLI looks every 2 s)."""

Name = Annotated[str | None, typer.Argument(help="The object's name (or --all).")]
All = Annotated[bool, typer.Option("--all", help="Every object of the kind in the namespace.")]
WithSource = Annotated[
    bool,
    typer.Option("--with-source", help="Kustomization, HelmRelease: reconcile the source first."),
]
Force = Annotated[
    bool, typer.Option("--force", help="HelmRelease: upgrade the release even if unchanged.")
]
Reset = Annotated[bool, typer.Option("--reset", help="HelmRelease: reset the failure counts.")]


@dataclass(frozen=True)
class _Target:
    noun: Noun
    name: str
    namespace: str

    @property
    def title(self) -> str:
        return f"{self.noun.kind} {self.name} in {self.namespace} namespace"


async def _targets(
    client: KubeClient, noun: Noun, name: str | None, every: bool, namespace: str
) -> list[_Target]:
    rt = resource_type(noun.kind)
    if every:
        objects, _ = await client.list(rt, namespace=namespace)
        names = sorted(obj["metadata"]["name"] for obj in objects)
        if not names:
            raise CommandError(f'no {noun.kind} objects found in "{namespace}" namespace')
        return [_Target(noun, each, namespace) for each in names]
    assert name is not None
    if await client.get_or_none(rt, name, namespace=namespace) is None:
        raise CommandError(f'{noun.kind} "{name}" not found in "{namespace}" namespace')
    return [_Target(noun, name, namespace)]


async def request_reconcile(
    client: KubeClient, target_kind: str, name: str, namespace: str, **extra: str
) -> str:
    """Ask for a reconcile of one object now; return the ``requestedAt`` value written.

    ``extra`` annotations (``forceAt``/``resetAt``) get the same value, as Flux's CLI writes.

    Raises:
        CommandError: the object is suspended (a suspended object handles no request).
    """
    try:
        return await requests.request_reconcile(
            client, target_kind, name, namespace, *extra.values()
        )
    except requests.Suspended as error:
        raise CommandError(
            f"{error}; run 'tide resume {find_noun(target_kind).path} {name} -n {namespace}' first"
        ) from None


def _verdict(obj: Mapping[str, Any], requested: str | None) -> tuple[bool, str] | None:
    """Return (ready, message) once ``requested`` was handled and Ready decided, else None.

    ``requested`` None: only the current generation's Ready verdict is awaited (a new object).
    """
    status = obj.get("status") or {}
    if requested is not None and status.get("lastHandledReconcileAt") != requested:
        return None
    generation = (obj.get("metadata") or {}).get("generation")
    if generation is not None and status.get("observedGeneration", generation) < generation:
        return None
    ready = getter.find(status, "Ready")
    if ready is None or ready.get("status") == "Unknown":
        return None
    return ready.get("status") == "True", str(ready.get("message") or "")


async def wait_handled(
    client: KubeClient,
    target_kind: str,
    name: str,
    namespace: str,
    requested: str | None,
    timeout: float,
) -> dict[str, Any]:
    """Wait until the object handled ``requested`` (None: any reconcile) and is Ready; return it.

    Raises:
        CommandError: Ready=False (with its message), the object went away, or ``timeout``.
    """
    rt = resource_type(target_kind)
    deadline = time.monotonic() + timeout
    with err.status(f"waiting for {target_kind} reconciliation"):
        while True:
            obj = await client.get_or_none(rt, name, namespace=namespace)
            if obj is None:
                raise CommandError(f"{target_kind} {name} in {namespace} namespace was deleted")
            verdict = _verdict(obj, requested)
            if verdict is not None:
                ready, message = verdict
                if not ready:
                    raise CommandError(f"{target_kind} reconciliation failed: {message}")
                return obj
            if time.monotonic() > deadline:
                raise CommandError(
                    f"timed out after {timeout:.0f}s waiting for {target_kind} {name} "
                    f"in {namespace} namespace to be reconciled"
                )
            await asyncio.sleep(_POLL)


def _outcome(obj: Mapping[str, Any]) -> str:
    """What the finished reconcile produced, in Flux's words."""
    status = obj.get("status") or {}
    if (status.get("artifact") or {}).get("revision"):
        return f"fetched revision {status['artifact']['revision']}"
    if status.get("lastAppliedRevision"):
        return f"applied revision {status['lastAppliedRevision']}"
    history = status.get("history") or []
    if history:
        return f"applied revision {history[0].get('chartVersion', '')}"
    return f"{obj.get('kind')} reconciliation completed"


async def _reconcile_one(
    client: KubeClient, target: _Target, options: ClusterOptions, **extra: str
) -> None:
    err.print(f"► annotating {target.title}")
    kind, name, namespace = target.noun.kind, target.name, target.namespace
    requested = await request_reconcile(client, kind, name, namespace, **extra)
    err.print(f"[green]✔[/] {kind} annotated")
    if not target.noun.info.has_status:
        return
    obj = await wait_handled(client, kind, name, namespace, requested, options.timeout)
    err.print(f"[green]✔[/] {_outcome(obj)}")


async def _source_of(client: KubeClient, target: _Target) -> _Target | None:
    """The object ``--with-source`` reconciles first, or None when there is none."""
    obj = await client.get(resource_type(target.noun.kind), target.name, namespace=target.namespace)
    source = requests.source_of(target.noun.kind, obj)
    if source is None:
        return None
    kind, name, namespace = source
    try:
        return _Target(find_noun(kind), name, namespace)
    except KeyError:
        return None


async def _reconcile(
    noun: Noun,
    name: str | None,
    every: bool,
    options: ClusterOptions,
    *,
    with_source: bool,
    extra: dict[str, str],
) -> None:
    async with options.client() as client:
        for target in await _targets(client, noun, name, every, options.namespace):
            if with_source:
                source = await _source_of(client, target)
                if source is not None:
                    await _reconcile_one(client, source, options)
            await _reconcile_one(client, target, options, **extra)


async def _set_suspend(
    noun: Noun, name: str | None, every: bool, options: ClusterOptions, *, suspend: bool
) -> None:
    verb, done = ("suspending", "suspended") if suspend else ("resuming", "resumed")
    async with options.client() as client:
        targets = await _targets(client, noun, name, every, options.namespace)
        for target in targets:
            err.print(f"► {verb} {target.title}")
            stamp = await requests.set_suspend(
                client, noun.kind, target.name, target.namespace, suspend=suspend
            )
            err.print(f"[green]✔[/] {noun.kind} {done}")
            if stamp is not None and noun.info.has_status:
                obj = await wait_handled(
                    client, noun.kind, target.name, target.namespace, stamp, options.timeout
                )
                err.print(f"[green]✔[/] {_outcome(obj)}")


def _check_name(name: str | None, every: bool) -> None:
    if (name is None) == (not every):
        raise typer.BadParameter("give an object's name or --all, not both", param_hint="NAME")


def _suspend_command(noun: Noun, *, suspend: bool) -> object:
    @cluster_command(timeout="5m")
    def command(options: ClusterOptions, name: Name = None, every: All = False) -> None:
        _check_name(name, every)
        run_command(_set_suspend(noun, name, every, options, suspend=suspend))

    return command


def _reconcile_command(noun: Noun) -> object:
    helm = noun.kind == "HelmRelease"
    sourced = noun.kind in ("Kustomization", "HelmRelease")

    @cluster_command(timeout="5m")
    def command(
        options: ClusterOptions,
        name: Name = None,
        every: All = False,
        with_source: WithSource = False,
        force: Force = False,
        reset: Reset = False,
    ) -> None:
        _check_name(name, every)
        if (force or reset) and not helm:
            raise typer.BadParameter("--force and --reset are for helmrelease only")
        if with_source and not sourced:
            raise typer.BadParameter("--with-source is for kustomization and helmrelease only")
        extra = {}
        if force:
            extra["force"] = keys.FORCE_AT
        if reset:
            extra["reset"] = keys.RESET_AT
        run_command(_reconcile(noun, name, every, options, with_source=with_source, extra=extra))

    return command


def _register() -> None:
    for app, build, verb, include in (
        (suspend_app, lambda noun: _suspend_command(noun, suspend=True), "Suspend", _suspendable),
        (resume_app, lambda noun: _suspend_command(noun, suspend=False), "Resume", _suspendable),
        (reconcile_app, _reconcile_command, "Reconcile", _reconciled),
    ):
        register_per_kind(
            app,
            build,
            verb=verb,
            help=lambda noun, verb=verb: f"{verb} {noun.a_kind}.",
            include=include,
        )


def _suspendable(noun: Noun) -> bool:
    return noun.suspendable


def _reconciled(noun: Noun) -> bool:
    return noun.kind not in UNRECONCILED


_register()

"""``tide logs``: the controllers' log lines, selected by the Flux object they are about.

As ``flux logs`` does, the controllers' pods are found in the install namespace
(``--flux-namespace``, default ``flux-system``) by the label ``app.kubernetes.io/part-of=flux``
that Flux's and Tide's installs put on them (or through the Deployments carrying it), and their
logs are read through the API server (``pods/{name}/log``), which applies ``--since`` and
``--tail``. The JSON lines are then filtered here by ``kind``, ``name``, ``namespace`` and level.

A ``tide controller`` running on a workstation has no pod: started with ``--log-file FILE`` it
appends the same JSON lines to a file, and ``tide logs --log-file FILE`` reads that instead. An
explicit file, rather than one found by convention, because nothing else ties a workstation's
controller to a place (its ``--storage-path`` is served over HTTP, so logs do not belong there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tide.api.meta import parse_duration
from tide.cli._session import ClusterOptions, CommandError, cluster_command, err, out, run_command
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError

__all__ = ["PART_OF", "LogFilter", "render", "run"]

PART_OF = {"app.kubernetes.io/part-of": "flux"}
"""The label of the controllers' pods and Deployments (Flux's install, and Tide's)."""

_LEVELS = {"debug": 0, "info": 1, "warning": 2, "error": 3}
_DEPLOYMENT = resources.ResourceType("apps", "v1", "Deployment", "deployments")
_POLL_SECONDS = 0.5
"""How often a followed ``--log-file`` is checked for new lines."""


@dataclass(frozen=True)
class LogFilter:
    """Which lines to show: each field None shows all.

    Attributes:
        kind: the object's kind, compared case-insensitively (``kustomization`` works).
        name: the object's name.
        namespace: the object's namespace (lines about no object are kept).
        level: the least level shown (``warning`` shows warnings and errors).
    """

    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    level: str | None = None

    def matches(self, entry: dict[str, Any] | None) -> bool:
        """Whether a parsed line (None: not a JSON line) is shown."""
        if entry is None:  # a line the formatter did not write (a crash's traceback)
            return self.kind is None and self.name is None and self.level is None
        if self.kind is not None and str(entry.get("kind", "")).lower() != self.kind.lower():
            return False
        if self.name is not None and entry.get("name") != self.name:
            return False
        if self.namespace is not None and entry.get("namespace") not in (None, self.namespace):
            return False
        if self.level is not None:
            return _LEVELS.get(str(entry.get("level")), 1) >= _LEVELS[self.level]
        return True


def _parse(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and "msg" in entry else None


def render(line: str, entry: dict[str, Any] | None) -> str:
    """Return a line as printed: ``TS LEVEL Kind/name.namespace - message``, as ``flux logs``."""
    if entry is None:
        return line
    if entry.get("kind"):
        subject = f"{entry['kind']}/{entry.get('name', '')}.{entry.get('namespace', '')}"
    else:
        subject = str(entry.get("logger", ""))
    text = f"{entry.get('ts', '')} {entry.get('level', '')} {subject} - {entry.get('msg', '')}"
    if entry.get("error"):
        text += f"\n{entry['error']}"
    return text


async def _controller_pods(client: KubeClient, namespace: str) -> list[dict[str, Any]]:
    pods, _ = await client.list(resources.POD, namespace=namespace, labels=PART_OF)
    if not pods:  # an install that labels only its Deployments: their selectors find the pods
        deployments, _ = await client.list(_DEPLOYMENT, namespace=namespace, labels=PART_OF)
        for deployment in deployments:
            selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels")
            if selector:
                found, _ = await client.list(resources.POD, namespace=namespace, labels=selector)
                pods.extend(found)
    return sorted(pods, key=lambda pod: pod["metadata"]["name"])


async def _one_container(
    client: KubeClient, pod: str, container: str, namespace: str, queue: asyncio.Queue, **read: Any
) -> None:
    try:
        async for line in client.pod_log(pod, namespace=namespace, container=container, **read):
            await queue.put(line)
    except KubeError as error:
        err.print(f"[yellow]![/] {pod}/{container}: {escape(str(error))}", highlight=False)


async def _pod_lines(
    options: ClusterOptions, flux_namespace: str, **read: Any
) -> AsyncIterator[str]:
    """Yield the controllers' lines: pod after pod, or as they come with ``follow``."""
    async with options.client() as client:
        pods = await _controller_pods(client, flux_namespace)
        if not pods:
            labels = ",".join(f"{key}={value}" for key, value in PART_OF.items())
            raise CommandError(
                f"no controller pods labelled {labels} in namespace {flux_namespace!r}; "
                "for a local `tide controller`, pass --log-file as given to it"
            )
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1000)
        readers = [
            (pod["metadata"]["name"], container["name"])
            for pod in pods
            for container in (pod.get("spec") or {}).get("containers") or []
        ]

        async def read_all() -> None:
            one = [_one_container(client, p, c, flux_namespace, queue, **read) for p, c in readers]
            if read.get("follow"):
                await asyncio.gather(*one)
            else:
                for reader in one:  # one pod's lines together, in order
                    await reader
            await queue.put(None)

        task = asyncio.create_task(read_all())
        try:
            while (line := await queue.get()) is not None:
                yield line
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _file_lines(
    path: Path, *, since_seconds: int | None, tail_lines: int | None, follow: bool
) -> AsyncIterator[str]:
    """Yield a ``--log-file``'s lines, as the API server would a pod's (since, tail, follow)."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        lines = handle.read().splitlines()
        if since_seconds is not None:
            lines = [line for line in lines if _recent(line, since_seconds)]
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines else []
        for line in lines:
            yield line
        partial = ""
        while follow:
            chunk = handle.readline()
            if not chunk:
                await asyncio.sleep(_POLL_SECONDS)
                continue
            partial += chunk
            if partial.endswith("\n"):
                yield partial.rstrip("\n")
                partial = ""


def _recent(line: str, since_seconds: int) -> bool:
    entry = _parse(line)
    if entry is None or not entry.get("ts"):
        return True
    try:
        stamp = datetime.fromisoformat(str(entry["ts"]).replace("Z", "+00:00"))
    except ValueError:
        return True
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp() >= time.time() - since_seconds


async def _logs(lines: AsyncIterator[str], selected: LogFilter) -> None:
    async for line in lines:
        entry = _parse(line)
        if selected.matches(entry):
            out.print(render(line, entry), markup=False, highlight=False, emoji=False,
                      soft_wrap=True)  # fmt: skip


def _since(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return max(1, int(parse_duration(text)))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None


@cluster_command(all_namespaces=True)
def run(
    kind: Annotated[str | None, typer.Option("--kind", help="Only lines about this kind.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only lines about this name.")] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Least level shown: debug, info, warning, error.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only lines newer than this duration (5m).")
    ] = None,
    tail: Annotated[
        int, typer.Option("--tail", help="Lines from the end of each log (-1: all).")
    ] = -1,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    flux_namespace: Annotated[
        str, typer.Option("--flux-namespace", help="Where the controllers run.")
    ] = "flux-system",
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="Read a local `tide controller --log-file` instead."),
    ] = None,
    *,
    options: ClusterOptions,
) -> None:
    """Show the controllers' logs, filtered by the Flux object they are about."""
    if level is not None and level not in _LEVELS:
        raise typer.BadParameter(f"expected one of {', '.join(_LEVELS)}", param_hint="--level")
    selected = LogFilter(kind, name, options.list_namespace, level)
    read = {"since_seconds": _since(since), "tail_lines": None if tail < 0 else tail,
            "follow": follow}  # fmt: skip
    if log_file is not None:
        lines = _file_lines(log_file, **read)
    else:
        lines = _pod_lines(options, flux_namespace, **read)
    run_command(_logs(lines, selected))

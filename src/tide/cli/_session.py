"""What every operating command shares: cluster flags, one client, one way to fail.

Flux's commands take ``-n/--namespace`` (default ``flux-system``), ``-A/--all-namespaces``,
``--context``, ``--kubeconfig`` and ``--timeout``; the option types here give every ``tide``
verb the same spellings. A command fails through :class:`CommandError`: one line on standard
error naming what was wrong and exit code 1 (no traceback), as a Flux user expects of ``flux``.
With the global ``--verbose`` (:func:`set_verbose`) the traceback is printed as well, for a bug
report.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement

from tide.api.meta import parse_duration
from tide.inspect.local_build import LocalBuildError
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError

__all__ = [
    "AllNamespaces",
    "ClusterOptions",
    "CommandError",
    "Context",
    "Kubeconfig",
    "Namespace",
    "Timeout",
    "cluster_command",
    "err",
    "keyword_option",
    "out",
    "print_wide",
    "print_yaml",
    "run_command",
    "set_verbose",
    "take_verbose",
    "unforeseen",
    "with_parameters",
]

T = TypeVar("T")

DEFAULT_NAMESPACE = "flux-system"

out = Console(highlight=False, soft_wrap=False)
"""Standard output: tables and YAML/JSON a script reads."""
err = Console(stderr=True, highlight=False)
"""Standard error: progress, ✔ and ✗ lines."""

Namespace = Annotated[
    str, typer.Option("--namespace", "-n", help="The namespace scope for this operation.")
]
AllNamespaces = Annotated[
    bool, typer.Option("--all-namespaces", "-A", help="List the objects across all namespaces.")
]
Kubeconfig = Annotated[
    Path | None, typer.Option("--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG).")
]
Context = Annotated[str | None, typer.Option("--context", help="Kubeconfig context to use.")]
Timeout = Annotated[
    str, typer.Option("--timeout", help="How long to wait, as a duration (e.g. 5m0s, 30s).")
]


def with_parameters(
    func: Callable[..., T],
    parameters: Sequence[inspect.Parameter],
    collect: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    provides: Sequence[str],
) -> Callable[..., T]:
    """Give a Typer command ``parameters`` it does not declare; ``collect`` folds them.

    Typer reads a command's options from its signature. Every operating command takes the same
    cluster flags, so instead of restating six annotated parameters in each of forty commands,
    they are appended to the signature here, and ``collect`` turns their values into the keyword
    arguments the command does declare (for example one ``options: ClusterOptions``), named in
    ``provides`` so they leave the signature Typer sees.
    """
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name not in provides]

    @functools.wraps(func)
    def command(**values: Any) -> T:
        extra = {p.name: values.pop(p.name) for p in parameters}
        return func(**values, **collect(extra))

    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own, *parameters]
    )
    return command


def keyword_option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """Return a keyword-only parameter for :func:`with_parameters`."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def cluster_command(
    func: Callable[..., T] | None = None,
    *,
    all_namespaces: bool = False,
    timeout: str | None = None,
) -> Any:
    """Add the cluster flags to a command that takes ``options: ClusterOptions``.

    Args:
        func: the command (the decorator may also be called with keywords only).
        all_namespaces: also take ``-A/--all-namespaces``.
        timeout: also take ``--timeout``, with this default (e.g. ``"5m"``).
    """

    def decorate(command: Callable[..., T]) -> Callable[..., T]:
        parameters = [
            keyword_option("namespace", Namespace, DEFAULT_NAMESPACE),
            keyword_option("kubeconfig", Kubeconfig, None),
            keyword_option("context", Context, None),
        ]
        if all_namespaces:
            parameters.append(keyword_option("all_namespaces", AllNamespaces, False))
        if timeout is not None:
            parameters.append(keyword_option("timeout", Timeout, timeout))

        def collect(values: dict[str, Any]) -> dict[str, Any]:
            return {"options": ClusterOptions.of(**values)}

        return with_parameters(command, parameters, collect, provides=("options",))

    return decorate(func) if func is not None else decorate


_UNBOUNDED = 100_000
"""Width to measure content at: wider than any line a command prints."""


def print_wide(renderable: Any, **print_options: Any) -> None:
    """Print a table, tree or line at its natural width, as ``kubectl get`` does.

    A rich table squeezed to the terminal folds every cell; Flux users expect whole columns and
    lines the terminal wraps. So the width is at least what the content needs (a pipe gets whole
    lines too); ``COLUMNS`` still sets the least width.
    """
    unbounded = out.options.update(max_width=_UNBOUNDED)
    natural = Measurement.get(out, unbounded, renderable).maximum
    # Console.print caps ``width`` at the console's own width, so a wider line needs a console
    # of that width, writing where ``out`` writes, with its colours.
    wide = Console(
        file=out.file,
        width=max(natural, out.width),
        color_system=out.color_system,
        force_terminal=out.is_terminal,
        no_color=out.no_color,
        highlight=False,
    )
    wide.print(renderable, **print_options)


def print_yaml(document: Any) -> None:
    """Print one YAML document after ``---``, never wrapped (a wrapped line breaks the YAML)."""
    text = yaml.safe_dump(document, sort_keys=False)
    out.print(f"---\n{text}", markup=False, highlight=False, end="", soft_wrap=True)


class CommandError(Exception):
    """A command cannot do what was asked; the message is the one line the user reads."""


@dataclass(frozen=True)
class ClusterOptions:
    """Where a command talks to and how long it waits.

    Attributes:
        namespace: the namespace scope; ``flux-system`` by default, as Flux's.
        all_namespaces: list across every namespace (``-A``).
        kubeconfig: the kubeconfig file; ``$KUBECONFIG`` or ``~/.kube/config`` by default.
        context: the kubeconfig context; its current one by default.
        timeout: seconds to wait for a reconcile; 300 (Flux's 5m0s) by default.
    """

    namespace: str = DEFAULT_NAMESPACE
    all_namespaces: bool = False
    kubeconfig: Path | None = None
    context: str | None = None
    timeout: float = 300.0

    @classmethod
    def of(
        cls,
        *,
        namespace: str,
        all_namespaces: bool = False,
        kubeconfig: Path | None,
        context: str | None,
        timeout: str = "5m",
    ) -> ClusterOptions:
        """Build options from flags, refusing a malformed ``--timeout`` with a clear line."""
        try:
            seconds = parse_duration(timeout)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--timeout") from None
        return cls(namespace, all_namespaces, kubeconfig, context, seconds)

    @property
    def list_namespace(self) -> str | None:
        """Return the namespace to list in: None (every namespace) with ``-A``."""
        return None if self.all_namespaces else self.namespace

    @contextlib.asynccontextmanager
    async def client(self, *, field_manager: str = "tide") -> AsyncIterator[KubeClient]:
        """Connect as the kubeconfig says; close the connection afterwards.

        Args:
            field_manager: the manager name of writes (a dry run as the controller uses the
                controller's, so ownership of fields is judged as the controller's apply).
        """
        client = KubeClient.from_kubeconfig(
            self.kubeconfig, context=self.context, field_manager=field_manager
        )
        try:
            yield client
        finally:
            await client.close()


_VERBOSE = False
"""Whether failures also print their traceback (``tide --verbose``)."""

_VERBOSE_FLAG = "--verbose"


def set_verbose(on: bool) -> None:
    """Make every later failure print its traceback after its one line (or stop doing so)."""
    global _VERBOSE
    _VERBOSE = on


def take_verbose(args: Sequence[str]) -> list[str]:
    """Return ``args`` without ``--verbose``, switching verbose output on if it was there.

    Flux's ``--verbose`` is a global flag a user types anywhere (``flux get all --verbose``);
    click only takes a group's options before the subcommand, so the flag is taken out of the
    command line before click parses it. Nothing after ``--`` is touched.
    """
    rest = list(args)
    end = rest.index("--") if "--" in rest else len(rest)
    if _VERBOSE_FLAG in rest[:end]:
        set_verbose(True)
        rest = [arg for arg in rest[:end] if arg != _VERBOSE_FLAG] + rest[end:]
    return rest


def _fail(line: str, error: BaseException, code: int) -> typer.Exit:
    if _VERBOSE:
        err.file.write("".join(traceback.format_exception(error)))
    err.print(f"[red]✗[/] {escape(line)}", soft_wrap=True)
    return typer.Exit(code)


def unforeseen(error: BaseException, *, code: int = 1) -> int:
    """Report an error no command foresaw (a bug) in one line, as any failure; return ``code``.

    ``--verbose`` prints the traceback first; without it the line says how to get it.
    """
    hint = "" if _VERBOSE else " (run with --verbose for the traceback)"
    return _fail(f"{type(error).__name__}: {error}{hint}", error, code).exit_code


def run_command(work: Coroutine[Any, Any, T], *, failure_code: int = 1) -> T:
    """Run a command's coroutine; turn its failures into one line on stderr and an exit code.

    Args:
        work: the command's body.
        failure_code: the exit code of a failure; 1 by default (``diff`` uses 2, its 1
            meaning "there are differences").

    A failure the command foresaw (:class:`CommandError`, an API error, a folder that does not
    build, no cluster reachable)
    and one it did not (a bug) alike end in one line starting with ``✗``; ``--verbose`` adds
    the traceback before it. Ctrl-C exits 130 without a traceback, as a shell expects.
    """
    try:
        return asyncio.run(work)
    except (CommandError, KubeError, LocalBuildError) as error:
        raise _fail(str(error), error, failure_code) from None
    except OSError as error:  # no cluster reachable: connection refused, unknown host
        raise _fail(f"cannot reach the cluster: {error}", error, failure_code) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
        raise  # click's own: a usage error (exit 2) or an exit the command chose
    except Exception as error:  # a bug: still one line, the traceback only when asked for
        raise typer.Exit(unforeseen(error, code=failure_code)) from None

"""``tide dev up|env|down``: a local Kubernetes control plane for trying Tide, kept running.

The servers run in the background under ``$TIDE_CACHE_DIR/dev`` (default ``~/.cache/tide/dev``),
so ``up`` returns once the cluster is ready and a second ``up`` finds it running.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

# tide.testing is imported inside each command, not here: `tide controller` loads this module
# too, and a controller has no business loading the test harness.

__all__ = ["app", "dev_dir"]

app = typer.Typer(
    help="Run a local Kubernetes control plane for trying Tide.", no_args_is_help=True
)
_console = Console(stderr=True)


def dev_dir() -> Path:
    """Return the folder holding the dev control plane's state (``$TIDE_DEV_DIR`` overrides)."""
    from tide.testing.binaries import cache_root

    configured = os.environ.get("TIDE_DEV_DIR")
    return Path(configured) if configured else cache_root() / "dev"


@app.command()
def up(
    workloads: Annotated[
        bool,
        typer.Option(
            "--workloads/--no-workloads",
            help="Also run controller-manager, scheduler and kwok so Deployments roll out.",
        ),
    ] = True,
) -> None:
    """Start the local control plane in the background (or find it running)."""
    from tide.testing.binaries import BuildError, GoMissingError
    from tide.testing.controlplane import ControlPlane, ControlPlaneError

    running = ControlPlane.attach(dev_dir())
    if running is not None:
        _console.print(f"[green]✔[/] already running at {running.server}")
        _print_usage()
        return
    ControlPlane.stop_recorded(dev_dir())  # a half-dead earlier one
    plane = ControlPlane(data_dir=dev_dir(), workloads=workloads, detach=True)
    try:
        with _console.status("starting etcd and kube-apiserver"):
            plane.start()
    except (GoMissingError, BuildError, ControlPlaneError) as error:
        _console.print(f"[red]✗[/] {error}")
        raise typer.Exit(1) from error
    _console.print(
        f"[green]✔[/] control plane ready at {plane.server} in {plane.startup_seconds:.1f}s"
    )
    _print_usage()


@app.command()
def env() -> None:
    """Print ``export KUBECONFIG=…`` for the running control plane (eval it in a shell)."""
    from tide.testing.controlplane import ControlPlane

    plane = ControlPlane.attach(dev_dir())
    if plane is None:
        _console.print("[red]✗[/] no local control plane is running; start one with `tide dev up`")
        raise typer.Exit(1)
    typer.echo(f"export KUBECONFIG={shlex.quote(str(plane.kubeconfig))}")


@app.command()
def down() -> None:
    """Stop the local control plane and remove its state."""
    from tide.testing.controlplane import ControlPlane

    stopped = ControlPlane.stop_recorded(dev_dir())
    _console.print(f"[green]✔[/] stopped {stopped} processes" if stopped else "nothing was running")


def _print_usage() -> None:
    _console.print('use it with: eval "$(tide dev env)"; stop it with: tide dev down')

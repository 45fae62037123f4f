"""Assemble the ``tide`` command from its verb groups."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from tide.cli import (
    bootstrap,
    build,
    check,
    controller,
    controller_logs,
    create,
    create_image,
    create_secret,
    dashboard,
    delete,
    dev,
    diff,
    events,
    export,
    get,
    install,
    operate,
    plan,
    stats,
    trace,
    tree,
    uninstall,
    version,
    why,
)
from tide.cli._flags import normalise_bool_flags
from tide.cli._session import set_verbose, take_verbose, unforeseen

__all__ = ["app"]


class _Tide(typer.Typer):
    """The ``tide`` command, also taking Flux's ``--flag=true|false`` for boolean flags."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.argv[1:] = normalise_bool_flags(typer.main.get_command(self), sys.argv[1:])
        sys.argv[1:] = take_verbose(sys.argv[1:])
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:  # outside run_command (a flag's handling): one line too
            raise SystemExit(unforeseen(error)) from None


app = _Tide(
    name="tide",
    help="GitOps continuous delivery for Kubernetes that speaks Flux's APIs.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _global_flags(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Print a failure's traceback (anywhere on the line).")
    ] = False,
) -> None:
    """GitOps continuous delivery for Kubernetes that speaks Flux's APIs."""
    if verbose:  # usually already taken out of the line, and switched on, by _Tide.__call__
        set_verbose(True)


app.command("controller")(controller.run)
app.command("install")(install.run)
app.command("uninstall")(uninstall.run)
app.command("dashboard")(dashboard.run)
app.add_typer(bootstrap.app, name="bootstrap")
app.command("check")(check.run)
app.command("version")(version.run)
app.add_typer(dev.app, name="dev")
app.add_typer(get.app, name="get")
app.command("events")(events.run)
app.command("logs")(controller_logs.run)
app.add_typer(operate.suspend_app, name="suspend")
app.add_typer(operate.resume_app, name="resume")
app.add_typer(operate.reconcile_app, name="reconcile")
app.add_typer(tree.app, name="tree")
app.add_typer(why.app, name="why")
app.add_typer(build.app, name="build")
app.add_typer(diff.app, name="diff")
app.command("plan")(plan.run)
app.add_typer(export.app, name="export")
app.command("stats")(stats.run)
app.command("trace")(trace.run)
app.add_typer(create.app, name="create")
create.app.add_typer(create_secret.app, name="secret")
create.app.add_typer(create_image.app, name="image")
app.add_typer(delete.app, name="delete")

if __name__ == "__main__":
    app()

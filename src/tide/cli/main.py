"""Assemble the ``tide`` command from its verb groups."""

from __future__ import annotations

import typer

from tide.cli import controller, dev, install

__all__ = ["app"]

app = typer.Typer(
    name="tide",
    help="GitOps continuous delivery for Kubernetes that speaks Flux's APIs.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("controller")(controller.run)
app.command("install")(install.run)
app.add_typer(dev.app, name="dev")

if __name__ == "__main__":
    app()

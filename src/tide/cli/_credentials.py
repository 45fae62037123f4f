"""The basic-auth options commands that take Git or registry credentials share.

``--password`` also reads ``$TIDE_PASSWORD``, so a token can stay out of the shell history and
the process list; declared once so ``create secret`` and ``bootstrap git`` read it alike.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Password", "Username"]

Username = Annotated[str | None, typer.Option("--username", "-u", help="Basic auth user name.")]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        "-p",
        envvar="TIDE_PASSWORD",
        show_envvar=True,
        help="Basic auth password (or $TIDE_PASSWORD, which keeps it off the command line).",
    ),
]

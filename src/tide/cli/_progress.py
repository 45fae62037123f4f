"""Print progress and check lines as ``flux`` does: ``►`` a step, ``✔`` done, ``✗`` failed.

Lines go to standard error whole (never folded at the terminal's width), so each problem stays
on its own line for a reader and for ``grep``.
"""

from __future__ import annotations

from rich.markup import escape

from tide.cli._session import err
from tide.install import Verdict

__all__ = ["say"]

_MARKS = {Verdict.OK: "[green]✔[/]", Verdict.FAILED: "[red]✗[/]", Verdict.INFO: "►"}


def say(verdict: Verdict, text: str) -> None:
    """Print one line of progress or of a check's verdict."""
    err.print(f"{_MARKS[verdict]} {escape(text)}", soft_wrap=True)

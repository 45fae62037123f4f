"""Accept Flux's ``--flag=true`` / ``--flag=false`` spelling of boolean flags.

Flux's controllers take Go's flag syntax, where a boolean flag may carry a value
(``--no-cross-namespace-refs=true``, ``--enable-leader-election=false``), and Flux users' Deployment
arguments are written that way. Click's boolean flags take no value, so the command line is
rewritten before click parses it: ``--flag=true`` becomes ``--flag``, and ``--flag=false`` becomes
the flag's opposite (``--enable-leader-election=false`` → ``--disable-leader-election``) or is
dropped when the flag has none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["normalise_bool_flags"]

_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})


def _flag_options(command: Any) -> Iterator[Any]:
    # Duck-typed: typer carries its own copy of click, so click's classes are not its classes.
    for child in (getattr(command, "commands", None) or {}).values():
        yield from _flag_options(child)
    for param in command.params:
        if getattr(param, "is_flag", False) and getattr(param, "opts", None):
            yield param


def normalise_bool_flags(command: Any, args: Sequence[str]) -> list[str]:
    """Return ``args`` with every ``--flag=<bool>`` of ``command``'s flags in click's spelling.

    Anything else (values of other options, unknown flags, positional arguments) is left alone,
    so click still reports mistakes in its own words.
    """
    opposite: dict[str, str | None] = {}
    for option in _flag_options(command):
        on = [name for name in option.opts if name.startswith("--")]
        off = [name for name in option.secondary_opts if name.startswith("--")]
        for name in on:
            opposite[name] = off[0] if off else None
        for name in off:
            opposite[name] = on[0] if on else None
    rewritten: list[str] = []
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or name not in opposite or value.lower() not in _TRUE | _FALSE:
            rewritten.append(arg)
        elif value.lower() in _TRUE:
            rewritten.append(name)
        elif (other := opposite[name]) is not None:
            rewritten.append(other)
    return rewritten

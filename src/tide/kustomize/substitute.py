"""Post-build variable substitution with Flux's ``postBuild`` semantics.

Flux runs its envsubst fork (fluxcd/pkg ``envsubst``, itself forked from drone/envsubst) over
each built object's YAML text. We do the same, with a small hand-written expander: the PyPI
``envsubst`` package (last released 2019) only does ``$var``/``${var}`` from ``os.environ``,
and ``string.Template`` substitutes ``$var`` too, which Flux deliberately leaves alone so shell
scripts in ConfigMaps survive. No maintained library implements exactly these rules:

- Only ``${...}`` is expanded; ``$var`` is left as written.
- ``$$`` is an escape for ``$``: ``$${var}`` renders as the literal ``${var}``.
- Undefined variables render as the empty string (Flux's default); with ``strict=True``
  (Flux's ``StrictPostBuildSubstitutions`` feature gate) they fail the build instead, unless
  the expression carries a default.
- Defaults and bash string functions: ``${var:=d}``, ``${var:-d}`` (unset or empty),
  ``${var=d}``, ``${var-d}`` (unset only), ``${#var}``, ``${var^}``, ``${var^^}``,
  ``${var,}``, ``${var,,}``, ``${var:n}``, ``${var:n:len}``, ``${var#p}``, ``${var##p}``,
  ``${var%p}``, ``${var%%p}``, ``${var/old/new}``, ``${var//old/new}``, ``${var/#old/new}``,
  ``${var/%old/new}``. Defaults may themselves hold ``${...}``.
- Objects labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` are
  skipped, and nothing is substituted at all when there are no variables.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from tide import yamlio
from tide.api import keys
from tide.kustomize.build import BuildError

__all__ = [
    "DISABLED_KEY",
    "VARIABLE_NAME",
    "SubstitutionError",
    "merge_variables",
    "substitute",
    "substitute_text",
]

DISABLED_KEY = keys.SUBSTITUTE
"""Label or annotation that, set to ``disabled``, opts an object out of substitution."""

VARIABLE_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
"""Flux's ``^[_[:alpha:]][_[:alpha:][:digit:]]*$`` for variable names (ASCII classes)."""

_NAME = re.compile(r"[_a-zA-Z0-9]+")
_OPERATORS = (":=", ":-", ":?", ":+", "^^", ",,", "##", "%%", "//", "/#", "/%")
_UNSUPPORTED = (":?", ":+", "+")


class SubstitutionError(BuildError):
    """Variables could not be substituted; a build failure (``BuildFailed``) as in Flux."""


def merge_variables(
    sources: Sequence[Mapping[str, str]],
    inline: Mapping[str, str] | None,
) -> dict[str, str]:
    """Merge ``substituteFrom`` data (in spec order) with inline ``substitute``.

    Later sources override earlier ones and inline values win over all sources. Newlines are
    removed from values, as Flux does, so a value read from a file cannot break the YAML.
    """
    merged: dict[str, str] = {}
    for source in [*sources, inline or {}]:
        merged.update({key: value.replace("\n", "") for key, value in source.items()})
    return merged


def substitute(
    objects: Sequence[dict[str, Any]],
    variables: Mapping[str, str],
    *,
    strict: bool = False,
) -> list[dict[str, Any]]:
    """Return ``objects`` with ``${...}`` expressions expanded in each object's YAML.

    Raises:
        SubstitutionError: a variable name is invalid, strict mode meets an undefined
            variable, or an object is no longer valid YAML afterwards; names the object.
    """
    for name in variables:
        if not VARIABLE_NAME.match(name):
            raise SubstitutionError(
                f"'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
            )
    if not variables:
        return list(objects)
    return [
        obj if _disabled(obj) else _substitute_object(obj, variables, strict) for obj in objects
    ]


def substitute_text(text: str, variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Expand ``${...}`` expressions in ``text``; see the module docstring for the rules."""
    return _Expander(variables, strict).expand(text)


def _disabled(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    return labels.get(DISABLED_KEY) == "disabled" or annotations.get(DISABLED_KEY) == "disabled"


def _describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = f"{namespace}/{metadata.get('name')}" if namespace else str(metadata.get("name"))
    return f"{obj.get('kind')}/{name}"


def _substitute_object(
    obj: dict[str, Any], variables: Mapping[str, str], strict: bool
) -> dict[str, Any]:
    text = yamlio.dump(obj)
    try:
        result = yamlio.load(substitute_text(text, variables, strict=strict))
    except SubstitutionError as error:
        raise SubstitutionError(f"{_describe(obj)}: {error}") from error
    except yaml.YAMLError as error:
        raise SubstitutionError(
            f"{_describe(obj)}: not valid YAML after variable substitution: {error}"
        ) from error
    if not isinstance(result, dict):
        raise SubstitutionError(f"{_describe(obj)}: variable substitution did not yield an object")
    return result


class _Expander:
    """A recursive-descent expander over ``${...}``; ``$$`` escapes ``$``."""

    def __init__(self, variables: Mapping[str, str], strict: bool) -> None:
        self.variables = variables
        self.strict = strict

    def expand(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "$" and text.startswith("$$", i):
                out.append("$")
                i += 2
            elif char == "$" and text.startswith("${", i):
                end = _closing_brace(text, i + 2)
                out.append(self._evaluate(text[i + 2 : end]))
                i = end + 1
            else:
                out.append(char)
                i += 1
        return "".join(out)

    def _evaluate(self, body: str) -> str:
        if body.startswith("#") and len(body) > 1:
            return str(len(self._lookup(body[1:], has_default=False) or ""))
        match = _NAME.match(body)
        if match is None:
            raise SubstitutionError(f"bad substitution '${{{body}}}'")
        name, rest = match.group(), body[match.end() :]
        if not rest:
            return self._lookup(name, has_default=False) or ""
        operator = next((op for op in _OPERATORS if rest.startswith(op)), rest[0])
        argument = rest[len(operator) :]
        if operator in _UNSUPPORTED:
            raise SubstitutionError(f"unsupported substitution '${{{body}}}'")
        if operator in (":=", ":-", "=", "-"):
            value = self._lookup(name, has_default=True)
            use_default = value is None or (operator.startswith(":") and value == "")
            return self.expand(argument) if use_default else str(value)
        value = self._lookup(name, has_default=False) or ""
        return _apply(operator, argument, value, body)

    def _lookup(self, name: str, *, has_default: bool) -> str | None:
        if not VARIABLE_NAME.match(name):
            raise SubstitutionError(f"bad substitution: invalid variable name '{name}'")
        value = self.variables.get(name)
        if value is None and self.strict and not has_default:
            raise SubstitutionError(f"variable not set (strict mode): '{name}'")
        return value


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise SubstitutionError(f"missing closing brace in '{text[start - 2 : start + 40]}'")


def _apply(operator: str, argument: str, value: str, body: str) -> str:
    functions: dict[str, Callable[[], str]] = {
        "^": lambda: value[:1].upper() + value[1:],
        "^^": value.upper,
        ",": lambda: value[:1].lower() + value[1:],
        ",,": value.lower,
        ":": lambda: _slice(value, argument, body),
        "#": lambda: _strip_prefix(value, argument, longest=False),
        "##": lambda: _strip_prefix(value, argument, longest=True),
        "%": lambda: _strip_suffix(value, argument, longest=False),
        "%%": lambda: _strip_suffix(value, argument, longest=True),
        "/": lambda: _replace(value, argument, count=1),
        "//": lambda: _replace(value, argument, count=-1),
        "/#": lambda: _replace_anchored(value, argument, at_start=True),
        "/%": lambda: _replace_anchored(value, argument, at_start=False),
    }
    function = functions.get(operator)
    if function is None:
        raise SubstitutionError(f"bad substitution '${{{body}}}'")
    return function()


def _slice(value: str, argument: str, body: str) -> str:
    try:
        parts = [int(part.strip()) for part in argument.split(":", 1)]
    except ValueError as error:
        raise SubstitutionError(f"bad substitution '${{{body}}}'") from error
    start = parts[0]
    if len(parts) == 1:
        return value[start:]
    return value[start : start + max(parts[1], 0)] if start >= 0 else value[start:][: parts[1]]


def _strip_prefix(value: str, pattern: str, *, longest: bool) -> str:
    lengths = range(len(value), -1, -1) if longest else range(len(value) + 1)
    for n in lengths:
        if fnmatch.fnmatchcase(value[:n], pattern):
            return value[n:]
    return value


def _strip_suffix(value: str, pattern: str, *, longest: bool) -> str:
    starts = range(len(value) + 1) if longest else range(len(value), -1, -1)
    for n in starts:
        if fnmatch.fnmatchcase(value[n:], pattern):
            return value[:n]
    return value


def _split_replacement(argument: str) -> tuple[str, str]:
    old: list[str] = []
    i = 0
    while i < len(argument):
        if argument[i] == "\\" and i + 1 < len(argument) and argument[i + 1] in "/\\":
            old.append(argument[i + 1])
            i += 2
        elif argument[i] == "/":
            return "".join(old), argument[i + 1 :]
        else:
            old.append(argument[i])
            i += 1
    return "".join(old), ""


def _replace(value: str, argument: str, *, count: int) -> str:
    old, new = _split_replacement(argument)
    return value.replace(old, new, count) if old else value


def _replace_anchored(value: str, argument: str, *, at_start: bool) -> str:
    old, new = _split_replacement(argument)
    if at_start and value.startswith(old):
        return new + value[len(old) :]
    if not at_start and value.endswith(old):
        return value[: len(value) - len(old)] + new
    return value

"""Judge custom resources with a Kustomization's ``spec.healthCheckExprs`` (CEL).

Flux lets a Kustomization say how to read the health of a kind kstatus cannot: per
``apiVersion``/``kind``, a required ``current`` expression and optional ``inProgress`` and
``failed`` ones. The rules here follow kustomize-controller (``docs/spec/v1/kustomizations.md``,
RFC-0009 and fluxcd/pkg ``runtime/cel``):

- An entry applies to objects of the same API *group* and kind; the version is ignored, as
  Flux matches on GroupKind. When several entries name one group and kind, the first wins and
  the rest are ignored (not even compiled), as in Flux.
- An object whose ``status.observedGeneration`` differs from ``metadata.generation`` is in
  progress and no expression is evaluated.
- Otherwise ``inProgress``, then ``failed``, then ``current`` are evaluated (each if given); the
  first that is true decides. When none is true the object is in progress.
- Each expression sees the object's top-level fields as variables (``apiVersion``, ``kind``,
  ``metadata``, ``spec``, ``status``…), with CEL macros (``has``, ``all``, ``exists``,
  ``exists_one``, ``filter``, ``map``), optional field access (``status.?x.orValue(y)``) and
  the strings and encoders extensions, which is what Flux's environment offers. Expressions are
  parsed, not type-checked, since objects of a kind need not share a schema.

Compiling is separate from evaluating: a Kustomization's expressions are compiled once, when its
spec is read, and then judge every poll of every object without parsing again.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_encoders, ext_optional, ext_strings

from tide.kube.ssa.wait import Health, Readiness

__all__ = ["HealthExpressionError", "HealthExpressions", "cel_environment", "compile_expressions"]

# Evaluation order fixed by RFC-0009: a resource that is still working, or has failed, can carry
# stale signs of being current, so those two are asked first.
_ORDER = (
    ("inProgress", Health.IN_PROGRESS),
    ("failed", Health.FAILED),
    ("current", Health.CURRENT),
)


class HealthExpressionError(ValueError):
    """A ``healthCheckExprs`` entry is malformed or one of its expressions does not parse.

    Raised by :func:`compile_expressions`; it is a configuration error, so the caller should
    stall the Kustomization rather than retry (Flux's ``InvalidCELExpression``).
    """


@functools.cache
def cel_environment() -> Any:
    """Return the CEL environment Flux's expressions get, built on first use.

    Shared by every CEL field Tide evaluates (``healthCheckExprs``, a Receiver's
    ``resourceFilter``), so each offers the same macros and extensions.
    """
    return cel.NewEnv(
        extensions=[
            ext_optional.ExtOptional(),
            ext_strings.ExtStrings(),
            ext_encoders.ExtEncoders(),
        ]
    )


def _parse(source: str) -> Any:
    """Parse one expression into a reusable program; raise the library's error if it is bad."""
    return cel_environment().compile(source, disable_check=True)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


@dataclass(frozen=True)
class _Expression:
    """One compiled field of an entry: which field, the verdict it gives and its program."""

    field: str
    health: Health
    source: str
    program: Any

    def evaluate(self, variables: Mapping[str, Any]) -> bool | str:
        """Return the expression's truth, or a description of why it could not be decided."""
        try:
            value = self.program.eval(data=variables)
        except Exception as error:  # a binding failure must not escape a poll
            return str(error)
        if value.type() == cel.Type.ERROR:
            return str(value.plain_value())
        if value.type() != cel.Type.BOOL:
            return f"result is {value.type().name().lower()}, not bool"
        return bool(value.plain_value())


@dataclass(frozen=True)
class _Check:
    """One ``healthCheckExprs`` entry, compiled, with its expressions in evaluation order."""

    index: int
    api_version: str
    kind: str
    expressions: tuple[_Expression, ...]

    def evaluate(self, obj: Mapping[str, Any]) -> Readiness:
        if behind := _generation_behind(obj):
            return behind
        variables = dict(obj)
        for expression in self.expressions:
            outcome = expression.evaluate(variables)
            if isinstance(outcome, str):
                return Readiness(
                    Health.IN_PROGRESS,
                    f"healthCheckExprs: cannot evaluate {expression.field} expression "
                    f"'{expression.source}': {outcome}",
                )
            if outcome:
                return Readiness(
                    expression.health,
                    f"healthCheckExprs: {expression.field} expression "
                    f"'{expression.source}' is true",
                )
        tried = ", ".join(expression.field for expression in self.expressions)
        return Readiness(Health.IN_PROGRESS, f"healthCheckExprs: no expression is true ({tried})")


def _generation_behind(obj: Mapping[str, Any]) -> Readiness | None:
    """Return in-progress when the object's controller has not yet seen its latest spec."""
    observed = (obj.get("status") or {}).get("observedGeneration")
    generation = (obj.get("metadata") or {}).get("generation")
    if _is_int(observed) and _is_int(generation) and observed != generation:
        return Readiness(Health.IN_PROGRESS, f"observed generation {observed} of {generation}")
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class HealthExpressions:
    """A Kustomization's compiled ``healthCheckExprs``: one check per API group and kind.

    Build it with :func:`compile_expressions`; it holds no per-object state, so one instance
    can judge any number of objects, from any number of tasks.
    """

    checks: tuple[_Check, ...] = ()

    def evaluate(self, obj: Mapping[str, Any]) -> Readiness | None:
        """Return the verdict on a live object, or None when no entry covers its kind.

        None means the caller should fall back to kstatus's rules. A verdict's message names
        the expression that decided it.

        An expression that cannot be evaluated (a field missing without ``has()`` or ``.?``, a
        type mismatch, a result that is not a bool) gives ``InProgress`` with the CEL error in
        the message; the expressions after it are not tried. Flux turns such an error into
        kstatus's ``Unknown`` status, which keeps the wait going until the Kustomization's
        timeout — it neither fails fast nor counts as healthy — and ``InProgress`` is how a
        :class:`Readiness` says exactly that.
        """
        key = (_group(obj.get("apiVersion") or ""), obj.get("kind") or "")
        for check in self.checks:
            if (_group(check.api_version), check.kind) == key:
                return check.evaluate(obj)
        return None


def compile_expressions(entries: Sequence[Mapping[str, Any]]) -> HealthExpressions:
    """Compile ``spec.healthCheckExprs`` entries (JSON-shaped ``CustomHealthCheck`` dicts).

    Raises:
        HealthExpressionError: an entry lacks ``apiVersion``, ``kind`` or ``current``, or one
            of its expressions does not parse; the message names the entry, the field and the
            parser's complaint.
    """
    checks: list[_Check] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        api_version, kind = entry.get("apiVersion") or "", entry.get("kind") or ""
        where = f"healthCheckExprs[{index}] ({api_version or '?'} {kind or '?'})"
        if not api_version or not kind:
            raise HealthExpressionError(f"{where}: apiVersion and kind are required")
        if not entry.get("current"):
            raise HealthExpressionError(f"{where}: the current expression is required")
        if (_group(api_version), kind) in seen:
            continue
        seen.add((_group(api_version), kind))
        checks.append(_Check(index, api_version, kind, _compile_entry(entry, where)))
    return HealthExpressions(tuple(checks))


def _compile_entry(entry: Mapping[str, Any], where: str) -> tuple[_Expression, ...]:
    compiled: list[_Expression] = []
    for field, health in _ORDER:
        source = entry.get(field)
        if not source:
            continue
        try:
            program = _parse(source)
        except Exception as error:  # the binding reports parse errors as RuntimeError
            raise HealthExpressionError(
                f"{where}: cannot parse {field} expression '{source}': {error}"
            ) from error
        compiled.append(_Expression(field, health, source, program))
    return tuple(compiled)

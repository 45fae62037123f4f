"""A Receiver's ``spec.resourceFilter``: a CEL expression deciding, per object, whether to ask.

The expression sees two variables, as in Flux: ``res``, the object being considered
(``apiVersion``, ``kind``, ``metadata``), and ``req``, the webhook's body decoded as JSON (an
empty map when the body is not a JSON object). It must return a bool; false leaves that
object alone. Example: ``req.tag.contains(res.metadata.name)``.

The expression is compiled when the Receiver is reconciled, so a typo stalls the Receiver
(``InvalidCELExpression``) instead of surfacing at the first delivery; the server compiles it
again from the spec it reads (cheap) and evaluates it per object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cel_expr_python import cel

from tide.kube.ssa.health_exprs import cel_environment

__all__ = ["FilterError", "ResourceFilter"]


class FilterError(ValueError):
    """The expression does not compile, or an evaluation failed or returned no bool."""


class ResourceFilter:
    """A compiled ``resourceFilter``.

    Raises:
        FilterError: ``source`` does not parse; the message carries the parser's words.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._program = cel_environment().compile(source, disable_check=True)
        except Exception as error:  # the library reports parse errors as RuntimeError
            raise FilterError(f"resourceFilter '{source}' does not compile: {error}") from error

    def accepts(self, obj: Mapping[str, Any], payload: Any) -> bool:
        """Tell whether ``obj`` should be asked to reconcile for a delivery of ``payload``.

        Raises:
            FilterError: the evaluation failed (a missing key without ``has()``) or gave
                something other than a bool.
        """
        res = {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "metadata": dict(obj.get("metadata") or {}),
        }
        req = payload if isinstance(payload, dict) else {}
        try:
            value = self._program.eval(data={"res": res, "req": req})
        except Exception as error:
            raise FilterError(f"resourceFilter '{self.source}': {error}") from error
        if value.type() == cel.Type.ERROR:
            raise FilterError(f"resourceFilter '{self.source}': {value.plain_value()}")
        if value.type() != cel.Type.BOOL:
            kind = value.type().name().lower()
            raise FilterError(f"resourceFilter '{self.source}' returned {kind}, not bool")
        return bool(value.plain_value())

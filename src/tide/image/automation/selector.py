"""Match labels against a ``metav1.LabelSelector`` (``spec.policySelector``), as Kubernetes does.

Hand-written because no client library Tide uses exposes the matcher: ``matchLabels`` and each
``matchExpressions`` requirement (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``) are AND-ed;
an empty selector matches everything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tide.api._shared import LabelSelector

__all__ = ["InvalidSelector", "compile_selector"]

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class InvalidSelector(ValueError):
    """The selector cannot be evaluated; the message names the requirement."""


def compile_selector(selector: LabelSelector | None) -> Callable[[Mapping[str, str]], bool]:
    """Return a test of a label set against ``selector`` (None: match all).

    Raises:
        InvalidSelector: an unknown operator, or values where the operator takes none (or none
            where it needs some).
    """
    if selector is None:
        return lambda labels: True
    wanted = dict(selector.match_labels or {})
    tests: list[Callable[[Mapping[str, str]], bool]] = []
    for index, requirement in enumerate(selector.match_expressions or []):
        where = f"spec.policySelector.matchExpressions[{index}]"
        key, operator, values = requirement.key, requirement.operator, requirement.values or []
        if operator not in _OPERATORS:
            raise InvalidSelector(f"{where}: operator '{operator}' is not one of {_OPERATORS}")
        if operator in ("In", "NotIn") and not values:
            raise InvalidSelector(f"{where}: operator '{operator}' needs values")
        if operator in ("Exists", "DoesNotExist") and values:
            raise InvalidSelector(f"{where}: operator '{operator}' takes no values")
        tests.append(_requirement(key, operator, frozenset(values)))

    def matches(labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in wanted.items()):
            return False
        return all(test(labels) for test in tests)

    return matches


def _requirement(
    key: str, operator: str, values: frozenset[str]
) -> Callable[[Mapping[str, str]], bool]:
    if operator == "In":
        return lambda labels: key in labels and labels[key] in values
    if operator == "NotIn":
        return lambda labels: key not in labels or labels[key] not in values
    if operator == "Exists":
        return lambda labels: key in labels
    return lambda labels: key not in labels

"""Parse a Kubernetes label selector string (``key in (a,b),!other``) into requirements.

``--watch-label-selector`` takes the string form users write with ``kubectl -l``, as Flux's
controllers do for sharding (``sharding.fluxcd.io/key in (shard1)``,
``!sharding.fluxcd.io/key``). Parsed here, before anything connects, so a typo is a flag error
naming the requirement rather than a watch the API server refuses later. Hand-written: the
client library only builds selectors from pairs, it does not read the string form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["InvalidSelector", "Operator", "Requirement", "matches", "parse_selector"]

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SET = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_COMPARE = re.compile(r"^(?P<key>[^\s=!]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s=!]*)$")


class InvalidSelector(ValueError):
    """The selector string is malformed; the message quotes the requirement at fault."""


class Operator(StrEnum):
    """How a requirement tests a label."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


@dataclass(frozen=True)
class Requirement:
    """One comma-separated part of a selector; all of them must hold."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Tell whether ``labels`` satisfy this requirement, as the API server judges it."""
        value = labels.get(self.key)
        match self.operator:
            case Operator.EXISTS:
                return value is not None
            case Operator.DOES_NOT_EXIST:
                return value is None
            case Operator.EQUALS | Operator.IN:
                return value in self.values
            case _:  # != and notin also select objects without the label
                return value not in self.values


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """Parse ``text``; an empty string selects everything (no requirement).

    Raises:
        InvalidSelector: a part is neither ``key``, ``!key``, ``key=value``, ``key==value``,
            ``key!=value``, ``key in (v,…)`` nor ``key notin (v,…)``, or a key or value is not
            a valid label key or value.
    """
    return tuple(_requirement(part.strip()) for part in _split(text) if part.strip())


def matches(requirements: tuple[Requirement, ...], labels: Mapping[str, str] | None) -> bool:
    """Tell whether ``labels`` satisfy every requirement."""
    return all(r.holds(labels or {}) for r in requirements)


def _split(text: str) -> list[str]:
    """Split at the commas outside parentheses (``a in (x,y),b`` has two parts)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise InvalidSelector(f"selector '{text}': unbalanced parentheses")
    return [*parts, current]


def _requirement(part: str) -> Requirement:
    if found := _SET.match(part):
        values = tuple(v.strip() for v in found["values"].split(","))
        operator = Operator.IN if found["op"] == "in" else Operator.NOT_IN
        return _checked(part, found["key"], operator, values)
    if found := _COMPARE.match(part):
        operator = Operator.NOT_EQUALS if found["op"] == "!=" else Operator.EQUALS
        return _checked(part, found["key"], operator, (found["value"],))
    if part.startswith("!"):
        return _checked(part, part[1:].strip(), Operator.DOES_NOT_EXIST, ())
    return _checked(part, part, Operator.EXISTS, ())


def _checked(part: str, key: str, operator: Operator, values: tuple[str, ...]) -> Requirement:
    if not _KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise InvalidSelector(
            f"selector requirement '{part}': '{key}' is not a label key "
            "(an optional DNS prefix and '/', then up to 63 of A-Z a-z 0-9 - _ .)"
        )
    if operator in (Operator.IN, Operator.NOT_IN) and not any(values):
        raise InvalidSelector(f"selector requirement '{part}': '{operator}' needs values")
    for value in values:
        if not _VALUE.match(value) or len(value) > 63:
            raise InvalidSelector(
                f"selector requirement '{part}': '{value}' is not a label value "
                "(up to 63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)"
            )
    return Requirement(key, operator, values)

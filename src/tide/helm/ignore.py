"""``driftDetection.ignore``: fields of the release's objects drift detection leaves alone.

A rule names JSON pointers (RFC 6901) and, optionally, which objects they are for (``target``:
group, version, kind, namespace, name as a regular expression, label and annotation
selectors). Before an object is compared with the cluster (and applied again, with ``mode:
enabled``), each ignored field Helm's manifest sets takes the cluster's value — or is dropped
when the cluster has none — so it can neither show as drift nor be put back. Fields the
manifest does not set are not Helm's to compare anyway.

Written here rather than taken from a library: no JSON pointer or selector package is among the
project's dependencies, and both are a few lines.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tide.api.helm import IgnoreRule

__all__ = ["IgnoreError", "apply_ignored", "ignored_paths", "selector_matches"]

_MISSING = object()
_REQUIREMENT = re.compile(
    r"^\s*(?P<not>!)?\s*(?P<key>[^\s!=,()]+)\s*"
    r"(?:(?P<op>==|!=|=|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[^\s,()]*))?\s*$"
)


class IgnoreError(ValueError):
    """A rule is malformed (a pointer without a leading ``/``, a bad selector)."""


def _tokens(pointer: str) -> list[str | int]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise IgnoreError(f"JSON pointer '{pointer}' must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _parent(document: Any, tokens: Sequence[Any]) -> tuple[Any, Any]:
    """The container holding the last token, and that token as the container indexes it."""
    current = document
    for token in tokens[:-1]:
        current = _child(current, token)
        if current is _MISSING:
            return _MISSING, None
    last = tokens[-1]
    if isinstance(current, list):
        return (current, int(last)) if str(last).isdigit() else (_MISSING, None)
    return (current, last) if isinstance(current, dict) else (_MISSING, None)


def _child(current: Any, token: Any) -> Any:
    if isinstance(current, dict):
        return current.get(token, _MISSING)
    if isinstance(current, list) and str(token).isdigit() and int(token) < len(current):
        return current[int(token)]
    return _MISSING


def _get(document: Any, tokens: Sequence[Any]) -> Any:
    current = document
    for token in tokens:
        current = _child(current, token)
        if current is _MISSING:
            break
    return current


def _requirement_holds(text: str, labels: Mapping[str, str]) -> bool:
    found = _REQUIREMENT.match(text)
    if not found:
        raise IgnoreError(f"invalid selector requirement '{text.strip()}'")
    key, op, value = found["key"], (found["op"] or "").strip(), found["value"]
    if found["not"]:
        if op:
            raise IgnoreError(f"invalid selector requirement '{text.strip()}'")
        return key not in labels
    if not op:
        return key in labels
    if op in ("in", "notin"):
        if not (value or "").startswith("("):
            raise IgnoreError(f"invalid selector requirement '{text.strip()}'")
        values = {v.strip() for v in value[1:-1].split(",") if v.strip()}
        return (labels.get(key) in values) == (op == "in")
    if op == "!=":
        return labels.get(key) != value
    return labels.get(key) == value


def _selector_holds(expression: str | None, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy a Kubernetes label-selector expression (``a=b,c in (d)``)."""
    if not expression:
        return True
    parts, depth, start = [], 0, 0
    for index, char in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(expression[start:index])
            start = index + 1
    parts.append(expression[start:])
    return all(_requirement_holds(part, labels) for part in parts if part.strip())


def selector_matches(target: Any, obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is one of the objects ``target`` (a kustomize selector) selects."""
    if target is None:
        return True
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    metadata = obj.get("metadata") or {}
    checks = [
        target.group is None or target.group == group,
        target.version is None or target.version == version,
        target.kind is None or target.kind == obj.get("kind"),
        target.namespace is None or target.namespace == metadata.get("namespace"),
        target.name is None or re.fullmatch(target.name, metadata.get("name", "")) is not None,
    ]
    if not all(checks):
        return False
    return _selector_holds(target.label_selector, metadata.get("labels") or {}) and (
        _selector_holds(target.annotation_selector, metadata.get("annotations") or {})
    )


def ignored_paths(rules: Sequence[IgnoreRule], obj: Mapping[str, Any]) -> list[str]:
    """The JSON pointers the rules ignore for ``obj``."""
    return [path for rule in rules if selector_matches(rule.target, obj) for path in rule.paths]


def apply_ignored(
    desired: dict[str, Any], live: Mapping[str, Any] | None, paths: Sequence[str]
) -> dict[str, Any]:
    """``desired`` with each ignored field it sets replaced by ``live``'s (dropped if none).

    Raises:
        IgnoreError: a pointer is malformed.
    """
    if not paths or live is None:
        return desired
    result = copy.deepcopy(desired)
    for path in paths:
        tokens = _tokens(path)
        if not tokens or _get(result, tokens) is _MISSING:
            continue
        container, key = _parent(result, tokens)
        if container is _MISSING:
            continue
        value = _get(live, tokens)
        if value is not _MISSING:
            container[key] = copy.deepcopy(value)
        elif isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    return result

"""Read YAML the way Helm's Go code sees it: timestamps stay text.

PyYAML turns ``2024-01-02T03:04:05Z`` into a ``datetime``; Helm reads the same scalar into a
string field (``created``, ``generated``) or, in values, keeps it as the string it was. Dropping
the timestamp resolver keeps both the index and merged values byte-for-byte what was written.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YAMLError", "describe", "load"]

YAMLError = yaml.YAMLError

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The C-accelerated safe loader (50 MiB indexes), without implicit timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(data: bytes | str) -> Any:
    """Parse one YAML document safely; raise :class:`YAMLError` when it is not YAML."""
    return yaml.load(data, Loader=_Loader)


def describe(error: yaml.YAMLError) -> str:
    """Say what is wrong and where (1-based line and column), without PyYAML's layout."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if mark is not None:
            return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
        return problem
    return str(error)

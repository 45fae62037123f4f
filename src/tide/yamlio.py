"""Read and write YAML the way Kubernetes' Go tools see it: timestamps stay text, and fast.

PyYAML turns ``2024-01-02T03:04:05Z`` into a ``datetime``; Helm and kustomize read the same
scalar into a string (an index's ``created``, an annotation's value), and a ``datetime`` would
not even serialize to JSON for the API server. Dropping the timestamp resolver keeps indexes,
values and manifests what was written. The C-accelerated (libyaml) loader and dumper are used
when PyYAML has them: large Helm indexes and thousands of manifests go through here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

__all__ = ["YAMLError", "describe", "dump", "load", "load_all", "load_or_fail", "merge_maps"]

YAMLError = yaml.YAMLError

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The C-accelerated safe loader, without implicit timestamps."""


_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(data: bytes | str) -> Any:
    """Parse one YAML document safely; raise :class:`YAMLError` when it is not YAML."""
    return yaml.load(data, Loader=_Loader)


def load_or_fail(data: bytes | str, fail: Callable[[str], Exception]) -> Any:
    """Parse one YAML document; when it is not YAML, raise ``fail(`` :func:`describe` ``)``.

    What a user wrote (values, a kubeconfig, provider headers) may hold secrets, and PyYAML's
    own message quotes the offending line: the failure says the position only, and the
    PyYAML error is not chained to it (a logged traceback would quote the line again).
    """
    try:
        return load(data)
    except yaml.YAMLError as error:
        raise fail(describe(error)) from None


def load_all(data: bytes | str) -> list[Any]:
    """Parse every document of a stream, empty ones included (as None)."""
    return list(yaml.load_all(data, Loader=_Loader))


def dump(data: Any) -> str:
    """Write ``data`` as block YAML, keys in their order, long strings never folded."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=1 << 30, allow_unicode=True)


def describe(error: yaml.YAMLError) -> str:
    """Say what is wrong and where (1-based line and column), without PyYAML's layout."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if mark is not None:
            return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
        return problem
    return str(error)


def merge_maps(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in: nested mappings merge, the rest replaces.

    Helm's rule for values (a list or a scalar in ``override`` replaces what ``base`` had),
    shared by HelmChart values files, HelmRelease values and the generator's ``Merge``.
    """
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge_maps(current, value)
        else:
            merged[key] = value
    return merged

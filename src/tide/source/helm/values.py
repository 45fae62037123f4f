"""Merge ``spec.valuesFiles`` into one values document, the way Flux composes them.

Files are merged in list order, later ones winning; mappings merge key by key at every depth,
anything else (lists included) is replaced whole — ``fluxcd/pkg/runtime/transform.MergeMaps``.
A lone ``values.yaml`` means "the chart's own values", which needs no merging at all, so
:func:`effective_values_files` drops it as Flux's ``GetValuesFiles`` does.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from tide import yamlio as _yaml
from tide.yamlio import merge_maps

__all__ = [
    "CHART_VALUES",
    "ValuesFilesError",
    "dump_values",
    "effective_values_files",
    "merge_values_files",
    "parse_values",
]

CHART_VALUES = "values.yaml"
"""The chart's own values file."""


class ValuesFilesError(Exception):
    """A values file is missing or is not a YAML mapping; the message names the file."""


def effective_values_files(
    values_file: str | None, values_files: Sequence[str] | None
) -> list[str]:
    """Return the values files to merge: deprecated ``valuesFile`` first, then ``valuesFiles``.

    A list that is only the chart's ``values.yaml`` asks for nothing and comes back empty.
    """
    files = [*([values_file] if values_file else []), *(values_files or [])]
    if len(files) == 1 and posixpath.normpath(files[0]) == CHART_VALUES:
        return []
    return files


def parse_values(data: bytes | str, *, name: str) -> dict[str, Any]:
    """Parse one values file; an empty document is an empty mapping.

    Raises:
        ValuesFilesError: the file is not YAML, or its top level is not a mapping.
    """
    values = _yaml.load_or_fail(
        data,
        lambda problem: ValuesFilesError(f"unmarshaling values from '{name}' failed: {problem}"),
    )
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValuesFilesError(
            f"unmarshaling values from '{name}' failed: the top level is a "
            f"{type(values).__name__}, not a mapping"
        )
    return {str(key): value for key, value in values.items()}


def merge_values_files(
    paths: Sequence[str],
    read: Callable[[str], bytes | None],
    *,
    ignore_missing: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """Merge the files ``read`` returns for ``paths``, in order.

    Args:
        paths: the files as written in the spec.
        read: returns a file's bytes, or None when it does not exist.
        ignore_missing: skip missing files instead of failing (``ignoreMissingValuesFiles``).

    Returns:
        The merged values and the files that contributed to them.

    Raises:
        ValuesFilesError: a file is missing (unless ``ignore_missing``) or not a mapping.
    """
    merged: dict[str, Any] = {}
    used: list[str] = []
    for path in paths:
        data = read(path)
        if data is None:
            if ignore_missing:
                continue
            raise ValuesFilesError(f"no values file found at path '{path}'")
        merged = merge_maps(merged, parse_values(data, name=path))
        used.append(path)
    return merged, used


def dump_values(values: Mapping[str, Any]) -> str:
    """Write merged values as ``values.yaml``, keys sorted as Go's YAML encoder sorts them."""
    return yaml.safe_dump(
        dict(values), sort_keys=True, default_flow_style=False, allow_unicode=True
    )

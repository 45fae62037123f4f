"""Compose a release's values: ``valuesFrom`` in order, then ``values``, as Flux merges them.

Each ``valuesFrom`` document is merged over what came before (mappings key by key at every
depth, anything else — lists included — replaced whole); a reference with ``targetPath`` sets
that one path instead, through Helm's own ``--set`` parser, so ``a.b[0]=x`` means what it means
to ``helm --set``. The inline ``values`` are merged last. The result's digest
(:func:`config_digest`) is how a reconcile tells that nothing changed.

Values may come from Secrets: nothing here logs or quotes them. Errors name the object and key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tide import yamlio
from tide.yamlio import merge_maps

__all__ = [
    "DEFAULT_VALUES_KEY",
    "ValuesDocument",
    "ValuesError",
    "compose",
    "config_digest",
    "set_path",
]

DEFAULT_VALUES_KEY = "values.yaml"
"""The data key read when a ``valuesFrom`` entry names no ``valuesKey``."""


class ValuesError(Exception):
    """The values cannot be composed; the message names the object, the key and the problem."""


@dataclass(frozen=True)
class ValuesDocument:
    """The text found under one ``valuesFrom`` entry's key.

    Attributes:
        where: how messages name it (``key 'values.yaml' in Secret 'ns/name'``).
        text: the key's content (decoded from base64 for a Secret).
        target_path: set this dot-notation path to ``text`` instead of merging it at the root.
    """

    where: str
    text: str
    target_path: str | None = None


def set_path(values: Mapping[str, Any], path: str, value: str) -> dict[str, Any]:
    """Return ``values`` with ``path`` set to ``value`` as ``helm --set path=value`` would.

    A value in single or double quotes is set as the string inside them; otherwise Helm types
    it (``true``, ``3``). Raises :class:`ValueError` with Helm's reason when the path is not
    one Helm can parse (the message quotes the path only, never the value).
    """
    import helm_python as helm

    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    try:
        if quoted:
            parsed = helm.parse_set_string_values(f"{path}={value[1:-1]}")
        else:
            parsed = helm.parse_set_string(f"{path}={value}")
    except helm.HelmError:
        raise ValueError(f"invalid targetPath '{path}'") from None
    return merge_maps(values, parsed)


def compose(documents: Iterable[ValuesDocument], inline: Mapping[str, Any] | None) -> dict:
    """Merge ``documents`` in order, then ``inline``; return the release's values.

    Raises:
        ValuesError: a document is not a YAML mapping, or a ``targetPath`` does not parse.
    """
    result: dict[str, Any] = {}
    for document in documents:
        if document.target_path:
            try:
                result = set_path(result, document.target_path, document.text.strip())
            except ValueError as error:
                raise ValuesError(f"unable to merge {document.where}: {error}") from None
            continue
        result = merge_maps(result, _mapping(document))
    return merge_maps(result, inline or {})


def _mapping(document: ValuesDocument) -> Mapping[str, Any]:
    """Return the values ``document`` holds: a YAML mapping (no text and ``null`` hold none)."""
    unreadable = f"unable to read values from {document.where}"
    if not document.text.strip():
        return {}
    parsed = yamlio.load_or_fail(
        document.text, lambda problem: ValuesError(f"{unreadable}: {problem}")
    )
    if parsed is None:
        return {}
    if not isinstance(parsed, Mapping):
        raise ValuesError(f"{unreadable}: not a YAML mapping")
    return parsed


def config_digest(values: Mapping[str, Any]) -> str:
    """Return ``sha256:<hex>`` of ``values`` in a canonical form (sorted keys, compact JSON).

    Equal values give equal digests whatever order their keys came in, so a reconcile with
    the same values compares equal to the last attempt and does nothing.
    """
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return f"sha256:{hashlib.sha256(canonical.encode()).hexdigest()}"

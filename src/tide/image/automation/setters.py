"""Find ``$imagepolicy`` setter markers in YAML text and rewrite only the marked scalars.

A marker is a line comment right after a scalar value, as Flux's Setters strategy reads it::

    image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}
    tag: "1.0.0"  # {"$imagepolicy": "flux-system:app:tag"}

The suffix picks what of the policy's ``latestRef`` goes in: nothing for the whole image
(``name:tag``, plus ``@digest`` when the policy reflects one), ``:name``, ``:tag`` or
``:digest``. Positions come from PyYAML's composer (every node carries its start and end
offsets); the new value is spliced into the original text, never re-serialised, so comments,
quoting, indentation, key order, flow style and line endings stay byte for byte. A quoted scalar
keeps its quotes; a block scalar (``|``, ``>``) or a multi-line one is never rewritten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import yaml

__all__ = [
    "FIELDS",
    "Change",
    "Marker",
    "ObjectId",
    "Rewrite",
    "find_markers",
    "parse_marker",
    "rewrite",
    "value_for",
]

FIELDS = ("name", "tag", "digest")
"""The marker suffixes besides the whole image."""
_TRAILER = re.compile(r"[ \t]*,?[ \t]+#[ \t]*(\{.*\})[ \t]*$")
"""What may follow a marked scalar on its line: an optional flow-collection comma, the comment."""
_MARKER_KEY = "$imagepolicy"
_LINE_END = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
"""Line breaks as YAML counts them."""


@dataclass(frozen=True)
class ObjectId:
    """The Kubernetes object (or other YAML document) a marker sits in; fields may be empty."""

    kind: str = ""
    name: str = ""
    namespace: str = ""
    api_version: str = ""

    def key(self) -> str:
        """Name the object as ``Kind/namespace/name`` (``Kind/name`` without a namespace)."""
        parts = [self.kind, self.namespace, self.name]
        return "/".join(part for part in parts if part)


@dataclass(frozen=True)
class Marker:
    """One marked scalar in a file."""

    setter: str
    """The marker's value as written, e.g. ``flux-system:app:tag``."""
    namespace: str
    policy: str
    field: str | None
    """``name``, ``tag``, ``digest``, or None for the whole image."""
    start: int
    """Offset of the scalar's first character (its opening quote, if quoted)."""
    end: int
    style: str | None
    """``'``, ``"`` or None (plain)."""
    value: str
    """The scalar's current value."""
    line: int
    """1-based line of the scalar, for messages."""
    obj: ObjectId


@dataclass(frozen=True)
class Change:
    """One rewritten scalar, as Flux's template data names it."""

    old_value: str
    new_value: str
    setter: str


@dataclass
class Rewrite:
    """The new text of a file and what changed in it."""

    text: str
    changes: list[tuple[ObjectId, Change]] = field(default_factory=list)


def parse_marker(comment: str) -> tuple[str, str, str | None] | None:
    """Read ``{"$imagepolicy": "ns:policy[:field]"}``; return (namespace, policy, field) or None.

    Anything else (another JSON comment, a bad field) is not a marker and is left alone.
    """
    try:
        data = json.loads(comment)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(_MARKER_KEY), str):
        return None
    parts = data[_MARKER_KEY].split(":")
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1], None
    if len(parts) == 3 and parts[0] and parts[1] and parts[2] in FIELDS:
        return parts[0], parts[1], parts[2]
    return None


def find_markers(text: str) -> list[Marker]:
    """Return every marked scalar in ``text``, in file order.

    Raises:
        yaml.YAMLError: the text is not YAML.
    """
    found: dict[int, Marker] = {}
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        if document is None:
            continue
        obj = _identify(document)
        for node in _value_scalars(document):
            marker = _marker_at(node, text, obj)
            if marker is not None:
                found.setdefault(marker.start, marker)
    return [found[start] for start in sorted(found)]


def value_for(ref: Mapping[str, str | None], field_name: str | None) -> str | None:
    """Return what a marker with ``field_name`` takes from a policy's ``latestRef``.

    None when that part is not there (a ``:digest`` marker on a policy reflecting no digest).
    """
    name, tag, digest = ref.get("name"), ref.get("tag"), ref.get("digest")
    if field_name is None:
        if not name or not tag:
            return None
        return f"{name}:{tag}@{digest}" if digest else f"{name}:{tag}"
    return {"name": name, "tag": tag, "digest": digest}[field_name] or None


def rewrite(text: str, markers: list[Marker], values: Mapping[int, str]) -> Rewrite:
    """Splice ``values`` (by marker start offset) into ``text``; unchanged values are skipped."""
    result = Rewrite(text)
    pieces: list[str] = []
    cursor = 0
    for marker in markers:
        new = values.get(marker.start)
        if new is None or new == marker.value:
            continue
        pieces += [text[cursor : marker.start], _quoted(new, marker.style)]
        cursor = marker.end
        result.changes.append((marker.obj, Change(marker.value, new, marker.setter)))
    pieces.append(text[cursor:])
    result.text = "".join(pieces)
    return result


def _quoted(value: str, style: str | None) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return json.dumps(value)
    return value


def _value_scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    """Yield scalars that are values (mapping values, sequence items), never mapping keys."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:  # an alias points back at a node already walked
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for _key, value in current.value:
                if isinstance(value, yaml.ScalarNode):
                    yield value
                else:
                    stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            for item in current.value:
                if isinstance(item, yaml.ScalarNode):
                    yield item
                else:
                    stack.append(item)


def _marker_at(node: yaml.ScalarNode, text: str, obj: ObjectId) -> Marker | None:
    start, end = node.start_mark, node.end_mark
    if start.line != end.line or node.style not in (None, "'", '"'):
        return None
    match = _TRAILER.match(_LINE_END.split(text[end.index : end.index + 4096], maxsplit=1)[0])
    if match is None:
        return None
    parsed = parse_marker(match[1])
    if parsed is None:
        return None
    namespace, policy, field_name = parsed
    setter = ":".join(part for part in parsed if part)
    return Marker(
        setter=setter,
        namespace=namespace,
        policy=policy,
        field=field_name,
        start=start.index,
        end=end.index,
        style=node.style,
        value=node.value,
        line=start.line + 1,
        obj=obj,
    )


def _identify(document: yaml.Node) -> ObjectId:
    """Read ``apiVersion``, ``kind`` and ``metadata`` name/namespace of a document, if any."""
    if not isinstance(document, yaml.MappingNode):
        return ObjectId()
    top = _scalars(document)
    meta = next(
        (v for k, v in document.value if k.value == "metadata" and isinstance(v, yaml.MappingNode)),
        None,
    )
    metadata = _scalars(meta) if meta is not None else {}
    return ObjectId(
        kind=top.get("kind", ""),
        name=metadata.get("name", ""),
        namespace=metadata.get("namespace", ""),
        api_version=top.get("apiVersion", ""),
    )


def _scalars(node: yaml.MappingNode) -> dict[str, str]:
    return {
        str(k.value): str(v.value)
        for k, v in node.value
        if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
    }

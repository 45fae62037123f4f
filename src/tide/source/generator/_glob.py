"""Glob patterns as copy operations write them: ``*`` and ``?`` stay in one folder, ``**`` recurses.

Python's ``fnmatch`` lets ``*`` cross ``/`` and ``pathlib`` globs cannot be anchored to a
relative path string, so patterns are compiled to regular expressions here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GlobError", "Pattern", "has_magic", "static_prefix"]

_MAGIC = frozenset("*?[")


class GlobError(ValueError):
    """A pattern cannot be compiled (an unclosed ``[``, an empty class)."""


def has_magic(text: str) -> bool:
    """Tell whether ``text`` holds glob characters (``*``, ``?``, ``[``)."""
    return any(c in _MAGIC for c in text)


def static_prefix(pattern: str) -> str:
    """Return the folders before the first segment with glob characters (``a/b`` of ``a/b/*.y``)."""
    parts: list[str] = []
    for segment in pattern.strip("/").split("/"):
        if has_magic(segment):
            break
        parts.append(segment)
    return "/".join(parts)


def _segment(segment: str) -> str:
    """Translate one path segment (no ``/``) to a regular expression."""
    out, i = [], 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end < 0:
                raise GlobError(f"unclosed '[' in {segment!r}")
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            if not body:
                raise GlobError(f"empty character class in {segment!r}")
            escaped = body.replace("\\", "\\\\").replace("^", "\\^")
            out.append(f"[{'^' if negate else ''}{escaped}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    """A compiled glob matched against ``/``-separated relative paths."""

    text: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, text: str) -> Pattern:
        """Compile ``text``; raise :class:`GlobError` when it is malformed."""
        segments = text.strip("/").split("/")
        parts: list[str] = []
        joined = True  # whether the next segment follows a separator already in the regex
        for index, segment in enumerate(segments):
            separator = "" if index == 0 or joined else "/"
            if segment == "**":
                last = index == len(segments) - 1
                parts.append(separator + (".*" if last else "(?:[^/]+/)*"))
                joined = not last
            else:
                parts.append(separator + _segment(segment))
                joined = False
        return cls(text, re.compile("".join(parts)))

    def matches(self, path: str) -> bool:
        """Tell whether the whole of ``path`` matches."""
        return self.regex.fullmatch(path) is not None

"""Pick the latest tag as an ImagePolicy says: filter, extract, order; one pass, any size.

``spec.filterTags.pattern`` is searched in each tag (unanchored, as Go's regexp does); tags it
does not find are left out. ``spec.filterTags.extract`` then rewrites each kept tag with Go's
``Regexp.Expand`` template rules — ``$name``, ``${name}``, ``$1``, ``$$`` for a literal dollar —
and the policy orders the rewritten values, while the original tag is what is chosen.

============  =================================================================================
policy        what "latest" means
============  =================================================================================
semver        the highest value that is strict SemVer after one leading ``v`` (Flux's
              ``version.ParseVersion``) and inside ``range`` (Masterminds' rules: a pre-release
              only when the range names one, see :mod:`tide.semver`); other values are skipped
alphabetical  ``asc``: the last value in byte order (Z); ``desc``: the first (A)
numerical     ``asc``: the highest number; ``desc``: the lowest; a value that is not a number is
              an error, as in Flux (narrow the tags with ``filterTags.pattern``)
============  =================================================================================

When values tie, the tag seen last wins. Tide goes further than Flux in two ways: an
``extract`` that names a group the pattern does not define is refused (Flux silently orders
empty strings), and :meth:`TagChooser.newer` lets the pipeline refuse to move a policy to an
older tag than the one it already reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tide import semver
from tide.api.image import ImagePolicySpec

__all__ = ["Choice", "InvalidPolicy", "NoTagChosen", "TagChooser", "expand"]

_REFERENCE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+)|(\$))")


class InvalidPolicy(ValueError):
    """The policy cannot be applied as written (range, pattern, extract); retrying cannot help."""


class NoTagChosen(LookupError):
    """No tag qualifies; the message says how many were considered and filtered."""


@dataclass(frozen=True)
class Choice:
    """The chosen tag and the ordering key it won with."""

    tag: str
    key: Any


def expand(template: str, match: re.Match[str]) -> str:
    """Return ``template`` with group references replaced, as Go's ``Regexp.ExpandString``.

    A reference to a group that did not take part in the match is empty; a ``$`` that starts
    no reference is kept as it is.
    """

    def replace(reference: re.Match[str]) -> str:
        if reference.group(3):
            return "$"
        name = reference.group(1) or reference.group(2)
        group: str | int = int(name) if name.isdigit() else name
        try:
            return match.group(group) or ""
        except IndexError:  # a group the pattern lacks (from_spec refuses those)
            return ""

    return _REFERENCE.sub(replace, template)


def _references(template: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in _REFERENCE.finditer(template) if not m.group(3)]


class TagChooser:
    """The ordering and filter of one ImagePolicy spec, applied to tags in one pass.

    Build it with :meth:`from_spec`; :meth:`choose` streams any number of tags.
    """

    def __init__(
        self,
        *,
        kind: str,
        descending: bool = False,
        constraint: semver.Constraint | None = None,
        pattern: re.Pattern[str] | None = None,
        extract: str | None = None,
    ) -> None:
        self.kind = kind
        self.descending = descending
        self._constraint = constraint
        self._pattern = pattern
        self._extract = extract

    @classmethod
    def from_spec(cls, spec: ImagePolicySpec) -> TagChooser:
        """Compile ``spec.policy`` and ``spec.filterTags``.

        Raises:
            InvalidPolicy: no (or more than one) ordering, a range that does not parse, a
                pattern that does not compile, an extract naming a group the pattern lacks.
        """
        choice = spec.policy
        chosen = [k for k in ("semver", "alphabetical", "numerical") if getattr(choice, k)]
        if len(chosen) != 1:
            raise InvalidPolicy(
                "spec.policy must set exactly one of semver, alphabetical or numerical"
                + (f", not {' and '.join(chosen)}" if chosen else "")
            )
        pattern, extract = _filter(spec)
        if choice.semver is not None:
            try:
                constraint = semver.Constraint.parse(choice.semver.range)
            except ValueError as error:
                raise InvalidPolicy(
                    f"spec.policy.semver.range '{choice.semver.range}' is not a range: {error}"
                ) from None
            return cls(kind="semver", constraint=constraint, pattern=pattern, extract=extract)
        order = (choice.alphabetical or choice.numerical).order  # type: ignore[union-attr]
        kind = "alphabetical" if choice.alphabetical is not None else "numerical"
        return cls(kind=kind, descending=order == "desc", pattern=pattern, extract=extract)

    def describe(self) -> str:
        """Return the policy in words, for messages (``semver range '1.x'``)."""
        if self._constraint is not None:
            return f"semver range '{self._constraint}'"
        return f"{self.kind} order '{'desc' if self.descending else 'asc'}'"

    def value(self, tag: str) -> str | None:
        """Return what the policy orders ``tag`` by, or None when the filter leaves it out."""
        if self._pattern is None:
            return tag
        match = self._pattern.search(tag)
        if match is None:
            return None
        return expand(self._extract, match) if self._extract is not None else tag

    def key(self, tag: str) -> Any | None:
        """Return ``tag``'s ordering key (bigger is later), or None when it does not qualify.

        Raises:
            NoTagChosen: a numerical policy met a value that is not a number.
        """
        value = self.value(tag)
        if value is None:
            return None
        if self._constraint is not None:
            try:
                version = semver.Version.parse_tag(value)
            except ValueError:
                return None
            return version if self._constraint.check(version) else None
        if self.kind == "numerical":
            try:
                return float(value)
            except ValueError:
                raise NoTagChosen(
                    f"tag '{tag}' gives '{value}', which is not a number; spec.policy.numerical "
                    "orders numbers only (narrow the tags with spec.filterTags.pattern)"
                ) from None
        return value

    def newer(self, mine: Any, theirs: Any) -> bool:
        """Tell whether key ``mine`` is strictly later than key ``theirs`` in this order."""
        return bool(mine < theirs) if self.descending else bool(mine > theirs)

    def choose(self, tags: Iterable[str]) -> Choice:
        """Return the latest of ``tags``; the last of equals wins.

        Raises:
            NoTagChosen: no tag qualifies (none listed, none through the filter, none in range).
        """
        best: Choice | None = None
        seen = kept = 0
        for tag in tags:
            seen += 1
            key = self.key(tag)
            if key is None:
                continue
            kept += 1
            if best is None or not self.newer(best.key, key):
                best = Choice(tag, key)
        if best is None:
            raise NoTagChosen(self._nothing(seen))
        return best

    def _nothing(self, seen: int) -> str:
        if seen == 0:
            return "the ImageRepository lists no tags"
        filtered = f"spec.filterTags.pattern '{self._pattern.pattern}'" if self._pattern else ""
        if self._constraint is None:
            return f"none of the {seen} tags matches {filtered}"
        where = f" (after {filtered})" if filtered else ""
        return f"no tag of the {seen} listed{where} satisfies {self.describe()}"


def _filter(spec: ImagePolicySpec) -> tuple[re.Pattern[str] | None, str | None]:
    """Compile ``spec.filterTags`` and check ``extract`` against the pattern's groups."""
    tags = spec.filter_tags
    if tags is None or (not tags.pattern and not tags.extract):
        return None, None
    text = tags.pattern or ""
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise InvalidPolicy(
            f"spec.filterTags.pattern '{text}' is not a valid regular expression: {error}"
        ) from None
    if not tags.extract:
        return pattern, None
    for name in _references(tags.extract):
        known = int(name) <= pattern.groups if name.isdigit() else name in pattern.groupindex
        if not known:
            groups = ", ".join(sorted(pattern.groupindex)) or "none"
            raise InvalidPolicy(
                f"spec.filterTags.extract '{tags.extract}' refers to group '{name}', which "
                f"spec.filterTags.pattern '{text}' does not define (named groups: {groups})"
            )
    return pattern, tags.extract

"""Semantic versions and version ranges that mean exactly what they mean to Flux.

Flux picks a version from a range in four places: GitRepository and OCIRepository
``spec.ref.semver``, HelmChart ``spec.version`` and ImagePolicy ``spec.policy.semver.range``. All
of them hand the range to the Go library Masterminds/semver v3, so a range copied from a Flux
manifest has to select the same tag here or a migration to Tide silently deploys something else.

No PyPI library speaks that dialect. python-semver and node-semver (and ``packaging``) disagree
with it on comma-separated AND, ``~>`` and ``=<``, what a wildcard or a missing part means, what
``^0.x`` admits and when a pre-release may match. This module is therefore a hand-written
reimplementation of Masterminds' documented behaviour (README, test tables and the rules its
code applies, as of v3.4.0, which Flux ships, and v3.5.0), not a port of its source.

Versions (:class:`Version`)
    ``Version.parse`` is Masterminds' ``NewVersion``: an optional lowercase ``v``, one to three
    numeric parts (missing ones are 0, leading zeros are tolerated for CalVer), then an optional
    ``-pre.release`` and ``+build.metadata``. ``strict=True`` is ``StrictNewVersion``: exactly
    SemVer 2.0.0. ``Version.parse_tag`` is the rule Flux applies to the candidates themselves
    (Git and OCI tags, image tags, Helm index versions): strict SemVer after one leading ``v``.
    Precedence follows SemVer 2.0.0 item 11; build metadata is ignored, and ``original`` keeps
    the text as written so a tag can be reported back verbatim.

Ranges (:class:`Constraint`)
    ``||`` separates alternatives; within one, comparators are ANDed and separated by blanks or a
    comma. Operators: ``=`` (or none), ``!=``, ``>``, ``<``, ``>=``/``=>``, ``<=``/``=<``,
    ``~``/``~>`` and ``^``. Any part may be ``x``, ``X``, ``*`` or missing: ``1.2.x`` is
    ``>=1.2.0 <1.3.0``, ``>1.2`` is ``>=1.3.0``, ``<=1.2`` is ``<1.3.0``, ``*`` is everything.
    ``~1.2.3`` is ``>=1.2.3 <1.3.0`` and ``~1`` is ``>=1 <2``. ``^1.2.3`` is ``>=1.2.3 <2.0.0``,
    ``^0.2.3`` is ``>=0.2.3 <0.3.0``, ``^0.0.3`` is ``>=0.0.3 <0.0.4``, ``^0`` is ``<1.0.0``.
    ``A - B`` (blanks required) is ``>=A <=B``.

Pre-releases
    A pre-release version only matches an AND group in which at least one comparator names a
    pre-release; then every comparator of that group compares it by plain SemVer precedence.
    So ``>=1.2.3`` skips ``1.3.0-rc.1`` while ``>=1.2.3-0`` (the lowest possible pre-release)
    and ``>=1.2.3-0 <2`` admit it. (Before v3.4.0 the rule applied per comparator instead.)

Masterminds quirks kept on purpose, because Flux resolves these ranges the same way:
``~0.0.0``, ``~*`` and ``=*`` admit every version; ``^*`` admits only 0.0.0; ``<=*`` admits only
0.0.z; ``>*`` and ``!=*`` admit everything but 0.0.0; ``<*`` admits nothing; ``<=`` and ``>``
with a wildcard compare only the parts written (``<=1.2`` admits 1.2.99); a hyphen range glued
to a preceding blank-separated comparator (``>1 2 - 3``) or to ``||`` is rejected; a numeric
pre-release identifier beyond 2**64-1 is compared as text. Like Masterminds v3.5.0, inputs are
capped (versions at 256 bytes, ranges at 512 bytes and 32 alternatives), which also bounds the
cost of parsing a range taken from an untrusted manifest.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

__all__ = ["Constraint", "Version", "latest"]

_UINT64_MAX = 2**64 - 1
_MAX_VERSION_BYTES = 256
_MAX_CONSTRAINT_BYTES = 512
_MAX_ALTERNATIVES = 32

# Identifiers of a pre-release or build metadata: SemVer's [0-9A-Za-z-], dot separated, none empty.
_IDENTS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_LOOSE_VERSION = re.compile(
    rf"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-({_IDENTS}))?(?:\+({_IDENTS}))?"
)
_STRICT_VERSION = re.compile(
    rf"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-({_IDENTS}))?(?:\+({_IDENTS}))?"
)

# Go's \s: ASCII blanks only (no \v, no Unicode spaces).
_BLANKS = frozenset("\t\n\f\r ")
_BLANK = r"[\t\n\f\r ]"
# A part of a version inside a range. Masterminds' character class also lets '|' through; it
# matters only in deciding where a hyphen range ends (``1 - 2||3`` is rejected), so it stays.
_PART_CHARS = frozenset("0123456789xX*|")
_PART = r"[0-9xX*|]"
_IDENT_CHARS = frozenset(string.ascii_letters + string.digits + "-")
_RANGE_VERSION = rf"v?{_PART}+(?:\.{_PART}+)?(?:\.{_PART}+)?(?:-{_IDENTS})?(?:\+{_IDENTS})?"
_HYPHEN_RANGE = re.compile(
    rf"{_BLANK}*({_RANGE_VERSION}){_BLANK}+-{_BLANK}+({_RANGE_VERSION}){_BLANK}*"
)
_WILDCARDS = frozenset({"x", "X", "*"})

# Longest spellings first; at most one of them can be followed by a version, so order only
# saves work. The empty operator means "=".
_OPERATORS = ("!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^", "")
_CANONICAL_OPERATOR = {
    "": "=",
    "=": "=",
    "!=": "!=",
    ">": ">",
    "<": "<",
    ">=": ">=",
    "=>": ">=",
    "<=": "<=",
    "=<": "<=",
    "~": "~",
    "~>": "~",
    "^": "^",
}


def _is_number(identifier: str) -> bool:
    """Whether a pre-release identifier counts as numeric for precedence.

    Masterminds parses it as an unsigned 64-bit integer; one that overflows is compared as text.
    """
    return identifier.isascii() and identifier.isdigit() and int(identifier) <= _UINT64_MAX


def _compare_identifier(mine: str, theirs: str) -> int:
    if mine == theirs:
        return 0
    # A missing identifier (the shorter pre-release ran out) sorts first.
    if not mine:
        return -1
    if not theirs:
        return 1
    mine_numeric, theirs_numeric = _is_number(mine), _is_number(theirs)
    if mine_numeric and theirs_numeric:
        return -1 if int(mine) < int(theirs) else 1
    if mine_numeric != theirs_numeric:
        # Numeric identifiers have lower precedence than alphanumeric ones.
        return -1 if mine_numeric else 1
    return -1 if mine < theirs else 1


def _compare_prerelease(mine: str, theirs: str) -> int:
    """SemVer precedence of two non-empty pre-release strings, identifier by identifier."""
    mine_parts, theirs_parts = mine.split("."), theirs.split(".")
    for index in range(max(len(mine_parts), len(theirs_parts))):
        result = _compare_identifier(
            mine_parts[index] if index < len(mine_parts) else "",
            theirs_parts[index] if index < len(theirs_parts) else "",
        )
        if result:
            return result
    return 0


def _prerelease_problem(prerelease: str) -> str | None:
    for identifier in prerelease.split("."):
        if not identifier or not set(identifier) <= _IDENT_CHARS:
            return f"pre-release {prerelease!r} is not dot-separated [0-9A-Za-z-] identifiers"
        if len(identifier) > 1 and identifier.isdigit() and identifier.startswith("0"):
            return f"numeric pre-release identifier {identifier!r} has a leading zero"
    return None


def _build_problem(build: str) -> str | None:
    if any(not part or not set(part) <= _IDENT_CHARS for part in build.split(".")):
        return f"build metadata {build!r} is not dot-separated [0-9A-Za-z-] identifiers"
    return None


@dataclass(frozen=True, eq=False)
class Version:
    """One semantic version, ordered by SemVer 2.0.0 precedence.

    Equality and ordering ignore ``build`` and ``original`` (SemVer says build metadata has no
    precedence), so ``1.0.0+a == v1.0.0+b``; ``original`` is what was parsed, e.g. ``v1.2``,
    which is what Flux reports and checks out. Build instances with :meth:`parse`.
    """

    major: int
    minor: int = 0
    patch: int = 0
    prerelease: str = ""
    build: str = ""
    original: str = ""

    def __post_init__(self) -> None:
        for name in ("major", "minor", "patch"):
            value = getattr(self, name)
            if not 0 <= value <= _UINT64_MAX:
                raise ValueError(f"version {name} {value} is outside 0..2**64-1")
        problem = (self.prerelease and _prerelease_problem(self.prerelease)) or (
            self.build and _build_problem(self.build)
        )
        if problem:
            raise ValueError(f"invalid version: {problem}")
        if not self.original:
            object.__setattr__(self, "original", str(self))

    @classmethod
    def parse(cls, text: str, *, strict: bool = False) -> Version:
        """Parse ``text`` the way Masterminds' ``NewVersion`` (or ``StrictNewVersion``) does.

        Loose (the default, and what ranges use): ``v1``, ``1.2``, ``v1.2.3-rc.1+abc`` and
        zero-padded ``2024.01.05`` are accepted. ``strict=True`` accepts only SemVer 2.0.0
        itself (``1.2.3``; no ``v``, no missing or zero-padded parts), for callers that need it.

        Raises:
            ValueError: naming ``text`` and what is wrong with it.
        """
        if not text:
            raise ValueError("invalid semantic version '': empty")
        if len(text.encode()) > _MAX_VERSION_BYTES:
            raise ValueError(
                f"invalid semantic version {text[:40]!r}...: longer than {_MAX_VERSION_BYTES} bytes"
            )
        shape = "MAJOR.MINOR.PATCH" if strict else "[v]MAJOR[.MINOR[.PATCH]]"
        match = (_STRICT_VERSION if strict else _LOOSE_VERSION).fullmatch(text)
        if match is None:
            raise ValueError(
                f"invalid semantic version {text!r}: not of the form {shape}[-PRERELEASE][+BUILD]"
            )
        major, minor, patch, prerelease, build = match.groups(default="")
        numbers = [int(part) if part else 0 for part in (major, minor, patch)]
        if max(numbers) > _UINT64_MAX:
            raise ValueError(f"invalid semantic version {text!r}: a number exceeds 2**64-1")
        problem = prerelease and _prerelease_problem(prerelease)
        if problem:
            raise ValueError(f"invalid semantic version {text!r}: {problem}")
        return cls(*numbers, prerelease=prerelease, build=build, original=text)

    @classmethod
    def parse_tag(cls, text: str) -> Version:
        """Parse a candidate version the way Flux does (``fluxcd/pkg/version.ParseVersion``).

        That is strict SemVer 2.0.0 after removing one leading ``v``: ``v1.2.3`` and ``1.2.3``
        are versions, ``v1.2`` and ``1.02.3`` are not. GitRepository, OCIRepository and
        ImagePolicy tags and HelmChart index versions that fail this are skipped by Flux.

        Raises:
            ValueError: naming ``text`` and what is wrong with it.
        """
        try:
            version = cls.parse(text.removeprefix("v"), strict=True)
        except ValueError as error:
            raise ValueError(f"invalid version tag {text!r}: {error}") from None
        return replace(version, original=text)

    @property
    def is_prerelease(self) -> bool:
        """Whether this version has a pre-release part (``1.0.0-rc.1``)."""
        return bool(self.prerelease)

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as this version's precedence is below, equal to or above ``other``'s."""
        mine = (self.major, self.minor, self.patch)
        theirs = (other.major, other.minor, other.patch)
        if mine != theirs:
            return -1 if mine < theirs else 1
        if self.prerelease == other.prerelease:
            return 0
        # A release outranks any of its pre-releases.
        if not self.prerelease:
            return 1
        if not other.prerelease:
            return -1
        return _compare_prerelease(self.prerelease, other.prerelease)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) == 0

    def __hash__(self) -> int:
        # Equal precedence implies identical core and pre-release text, since numeric
        # identifiers cannot carry leading zeros.
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) < 0

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) <= 0

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) > 0

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) >= 0

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text


@dataclass(frozen=True)
class _Comparator:
    """One ``op version`` term of a range, e.g. ``>= 1.2.x``.

    ``bound`` is the written version with wildcards and missing parts set to 0, and ``wildcard``
    says which part was the first one not written (0 major, 1 minor, 2 patch; None if all
    were). Several operators read ``wildcard`` to compare only the parts that were written.
    """

    text: str
    op: str
    bound: Version
    wildcard: int | None

    def admits(self, version: Version, *, prereleases: bool) -> bool:
        if version.prerelease and not prereleases:
            return False
        return _OPERATIONS[self.op](self, version)

    def _equal(self, version: Version) -> bool:
        # With a wildcard, "=" is a tilde range: "1.2.x" and "=1.2" both mean ~1.2.
        return self._tilde(version) if self.wildcard is not None else version == self.bound

    def _not_equal(self, version: Version) -> bool:
        bound = self.bound
        if self.wildcard in (1, 2):
            if version.major != bound.major:
                return True
            if self.wildcard == 1:
                return False
            if version.minor != bound.minor:
                return True
            # Same major.minor: only a differing pre-release tells them apart; the patch is not
            # looked at (so "!=1.2.x" rejects 1.2.7 but admits 1.2.7-rc.1 when pre-releases are
            # in play, while "!=1.x" rejects both).
            if not (version.prerelease or bound.prerelease):
                return False
            return _compare_prerelease(version.prerelease, bound.prerelease) != 0
        return version != bound

    def _greater(self, version: Version) -> bool:
        bound = self.bound
        if self.wildcard in (1, 2):
            # ">1" means a later major, ">1.2" a later minor: the unwritten parts don't count.
            if version.major != bound.major:
                return version.major > bound.major
            return self.wildcard == 2 and version.minor > bound.minor
        return version > bound

    def _less(self, version: Version) -> bool:
        return version < self.bound

    def _at_least(self, version: Version) -> bool:
        return version >= self.bound

    def _at_most(self, version: Version) -> bool:
        bound = self.bound
        if self.wildcard is None:
            return version <= bound
        # "<=1.2" means anything up to the end of 1.2; only the written parts are compared and
        # there is no lower limit (so "<=*" is stuck at 0.0.z: major 0, minor 0).
        if version.major > bound.major:
            return False
        return not (
            version.major == bound.major and version.minor > bound.minor and self.wildcard != 1
        )

    def _tilde(self, version: Version) -> bool:
        bound = self.bound
        if version < bound:
            return False
        if (bound.major, bound.minor, bound.patch) == (0, 0, 0) and self.wildcard not in (1, 2):
            # "~0.0.0", "~*" and the bare "*" accept everything above the bound.
            return True
        if version.major != bound.major:
            return False
        return self.wildcard == 1 or version.minor == bound.minor

    def _caret(self, version: Version) -> bool:
        bound = self.bound
        if version < bound:
            return False
        if bound.major > 0 or self.wildcard == 1:
            return version.major == bound.major
        # Below 1.0.0 the minor is the compatibility level, and below 0.1.0 the patch is.
        if version.major > 0:
            return False
        if bound.minor > 0 or self.wildcard == 2:
            return version.minor == bound.minor
        if version.minor > 0:
            return False
        return version.patch == bound.patch


_OPERATIONS: dict[str, Callable[[_Comparator, Version], bool]] = {
    "=": _Comparator._equal,
    "!=": _Comparator._not_equal,
    ">": _Comparator._greater,
    "<": _Comparator._less,
    ">=": _Comparator._at_least,
    "<=": _Comparator._at_most,
    "~": _Comparator._tilde,
    "^": _Comparator._caret,
}


@dataclass(frozen=True)
class _Group:
    """Comparators that must all hold (one ``||`` alternative)."""

    comparators: tuple[_Comparator, ...]
    prereleases: bool
    """Whether any comparator names a pre-release, which lets pre-releases through all of them."""

    def admits(self, version: Version) -> bool:
        return all(c.admits(version, prereleases=self.prereleases) for c in self.comparators)


def _skip_blanks(text: str, index: int) -> int:
    while index < len(text) and text[index] in _BLANKS:
        index += 1
    return index


def _skip_chars(text: str, index: int, chars: frozenset[str]) -> int:
    while index < len(text) and text[index] in chars:
        index += 1
    return index


def _skip_identifiers(text: str, index: int) -> int:
    """End of the dot-separated identifiers starting at ``index`` (``index`` if there are none)."""
    end = _skip_chars(text, index, _IDENT_CHARS)
    if end == index:
        return index
    while end < len(text) and text[end] == ".":
        after = _skip_chars(text, end + 1, _IDENT_CHARS)
        if after == end + 1:
            break
        end = after
    return end


@dataclass(frozen=True)
class _Written:
    """A version as written in a range, before wildcards are resolved."""

    text: str
    parts: tuple[str, ...]
    prerelease: str


def _scan_version(text: str, index: int) -> tuple[_Written, int] | None:
    """Read the longest ``[v]P[.P[.P]][-pre][+build]`` at ``index`` (P: digits or x, X, *)."""
    start = index
    if index < len(text) and text[index] == "v":
        index += 1
    end = _skip_chars(text, index, _PART_CHARS)
    if end == index:
        return None
    parts = [text[index:end]]
    index = end
    while len(parts) < 3 and index + 1 < len(text) and text[index] == ".":
        end = _skip_chars(text, index + 1, _PART_CHARS)
        if end == index + 1:
            break
        parts.append(text[index + 1 : end])
        index = end
    prerelease = ""
    if index < len(text) and text[index] == "-":
        end = _skip_identifiers(text, index + 1)
        if end > index + 1:
            prerelease = text[index + 1 : end]
            index = end
    if index < len(text) and text[index] == "+":
        end = _skip_identifiers(text, index + 1)
        if end > index + 1:
            index = end
    return _Written(text[start:index], tuple(parts), prerelease), index


def _scan_comparator(text: str, index: int) -> tuple[str, _Written, int] | None:
    for op in _OPERATORS:
        if text.startswith(op, index):
            found = _scan_version(text, _skip_blanks(text, index + len(op)))
            if found is not None:
                return op, *found
    return None


def _build_comparator(text: str, op: str, written: _Written) -> _Comparator:
    parts = written.parts + ("",) * (3 - len(written.parts))
    suffix = f"-{written.prerelease}" if written.prerelease else ""
    wildcard = next((i for i, part in enumerate(parts) if not part or part in _WILDCARDS), None)
    if wildcard == 0:
        bound_text = f"0.0.0{suffix}"
    elif wildcard == 1:
        bound_text = f"{parts[0]}.0.0{suffix}"
    elif wildcard == 2:
        bound_text = f"{parts[0]}.{parts[1]}.0{suffix}"
    else:
        bound_text = written.text
    try:
        bound = Version.parse(bound_text)
    except ValueError as error:
        raise ValueError(f"improper constraint {text.strip()!r}: {error}") from None
    return _Comparator(text.strip(), _CANONICAL_OPERATOR[op], bound, wildcard)


def _parse_group(group: str, whole: str) -> _Group:
    """Split one ``||`` alternative into comparators, rejecting anything else in it."""
    comparators: list[_Comparator] = []
    index = _skip_blanks(group, 0)
    while True:
        found = _scan_comparator(group, index)
        if found is None and not group.strip():
            raise ValueError(f"improper constraint {whole!r}: empty range or || alternative")
        if found is None:
            raise ValueError(
                f"improper constraint {group.strip()!r} in {whole!r}: "
                f"expected an operator and a version at {group[index:].strip() or 'the end'!r}"
            )
        op, written, end = found
        comparators.append(_build_comparator(group[index:end], op, written))
        after = _skip_blanks(group, end)
        if after == len(group):
            break
        if group[after] == ",":
            index = _skip_blanks(group, after + 1)
        elif after > end:
            index = after
        else:
            raise ValueError(
                f"improper constraint {group.strip()!r} in {whole!r}: "
                f"unexpected {group[end:].strip()!r} after {group[index:end].strip()!r}"
            )
    prereleases = any(c.bound.prerelease for c in comparators)
    return _Group(tuple(comparators), prereleases)


def _expand_hyphen_ranges(text: str) -> str:
    """Rewrite each ``A - B`` as ``>= A, <= B `` before anything else is parsed.

    This is a textual rewrite, as in Masterminds, so its rough edges carry over: it swallows
    the blank before ``A``, which glues it onto a preceding comparator (``>1 2 - 3``).
    """
    rewritten = text
    for match in _HYPHEN_RANGE.finditer(text):
        rewritten = rewritten.replace(
            match.group(0), f">= {match.group(1)}, <= {match.group(2)} ", 1
        )
    return rewritten


@dataclass(frozen=True)
class Constraint:
    """A version range in Masterminds/semver syntax, e.g. ``>=1.2.0 <2 || ~3.1``.

    Parse with :meth:`Constraint.parse`; ``text`` is the range as written.
    """

    text: str
    _groups: tuple[_Group, ...] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """Parse a range, rejecting exactly what Masterminds' ``NewConstraint`` rejects.

        Raises:
            ValueError: naming the part of ``text`` that is not a comparator (an empty range,
                an empty ``||`` alternative and a dangling comma are all errors).
        """
        if len(text.encode()) > _MAX_CONSTRAINT_BYTES:
            raise ValueError(
                f"improper constraint {text[:40]!r}...: longer than {_MAX_CONSTRAINT_BYTES} bytes"
            )
        alternatives = _expand_hyphen_ranges(text).split("||")
        if len(alternatives) > _MAX_ALTERNATIVES:
            raise ValueError(
                f"improper constraint {text[:40]!r}: more than {_MAX_ALTERNATIVES} alternatives"
            )
        return cls(text, tuple(_parse_group(group, text) for group in alternatives))

    def check(self, version: Version | str) -> bool:
        """Whether ``version`` (a :class:`Version`, or text parsed loosely) is in the range.

        Raises:
            ValueError: if ``version`` is text that is not a version.
        """
        if isinstance(version, str):
            version = Version.parse(version)
        return any(group.admits(version) for group in self._groups)

    def __str__(self) -> str:
        return self.text


def latest(
    candidates: Iterable[str], constraint: str | Constraint, *, strict_tags: bool = False
) -> str | None:
    """The original text of the highest candidate inside ``constraint``, or None if none is.

    Candidates that are not versions (``latest``, ``main``, ``sha-1a2b3c``) are skipped
    silently, as Flux skips them. By default candidates are parsed loosely (``v1.2`` counts as
    1.2.0). Flux itself reads every candidate, be it a Git, OCI or image tag or a Helm index
    version, with the stricter :meth:`Version.parse_tag`, which skips ``v1.2``; pass
    ``strict_tags=True`` to choose exactly what Flux chooses.

    When several candidates share the highest precedence (``v1.0.0`` and ``1.0.0``, or builds
    differing only in ``+metadata``) the last one wins, so callers that list Git tags oldest
    first get Flux's choice of the most recently committed one.

    Raises:
        ValueError: if ``constraint`` is not a valid range.
    """
    if isinstance(constraint, str):
        constraint = Constraint.parse(constraint)
    parse = Version.parse_tag if strict_tags else Version.parse
    best: Version | None = None
    for candidate in candidates:
        try:
            version = parse(candidate)
        except ValueError:
            continue
        if constraint.check(version) and (best is None or version >= best):
            best = version
    return None if best is None else best.original

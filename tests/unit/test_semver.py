"""tide.semver: versions and ranges meaning what Masterminds/semver v3 (and so Flux) means.

The tables restate, in our own words, the examples of Masterminds' README and the cases of its
``version_test.go`` and ``constraints_test.go`` (v3.4.0), plus the quirks its rules produce.
Versions in the range tables are parsed loosely, as Masterminds' tests do.
"""

from __future__ import annotations

import pytest

from tide.semver import Constraint, Version, latest

pytestmark = pytest.mark.unit

TAGS = ["v1.0.0", "v1.2.0", "v1.10.0", "v2.0.0-rc.1", "latest", "1.9.9"]


# --- parsing versions ----------------------------------------------------------------------

LOOSE_VERSIONS = [
    ("1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),
    ("1.0", "1.0.0"),
    ("v1.0", "1.0.0"),
    ("1", "1.0.0"),
    ("v1", "1.0.0"),
    ("1.2-5", "1.2.0-5"),
    ("v1.2-beta.5", "1.2.0-beta.5"),
    ("1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
    ("v1.2.0-x.Y.0+metadata-width-hypen", "1.2.0-x.Y.0+metadata-width-hypen"),
    ("1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"),
    ("1.2.3+test.01", "1.2.3+test.01"),
    ("1.2.3-alpha.-1", "1.2.3-alpha.-1"),
    ("1.2.2147483648", "1.2.2147483648"),
    ("18446744073709551615.0.0", "18446744073709551615.0.0"),
    ("20221209-update-renovatejson-v4", "20221209.0.0-update-renovatejson-v4"),
    ("01.1.1", "1.1.1"),
    ("2024.01.05", "2024.1.5"),
]

NOT_VERSIONS = [
    "",
    "foo",
    "latest",
    "1.2.beta",
    "\n1.2",
    " 1.2.3",
    "1.2.3 ",
    "V1.2.3",
    "1.2.3.4",
    "12.3.4.1234",
    "1.2.3-",
    "1.1.2+.123",
    "1.0.0-alpha_beta",
    "1.0.0-alpha..1",
    "9.8.7+meta+meta",
    "1.2.3-alpha.01",
    "1.2.31----RC-SNAPSHOT.12.09.1--.12+788",
    "18446744073709551616.0.0",
    "1." + "1" * 255,
]

STRICT_VERSIONS = [
    "1.2.3",
    "0.0.0",
    "1.2.3+test.01",
    "1.2.3-alpha.-1",
    "1.2.0-x.Y.0+metadata",
    "1.2.3-rc1-with-hypen",
]

NOT_STRICT_VERSIONS = [
    "v1.2.3",
    "1.0",
    "1",
    "1.2-5",
    "01.1.1",
    "1.01.1",
    "1.1.01",
    "1.2.3-0123",
    "20221209-update-renovatejson-v4",
]


@pytest.mark.parametrize(("text", "canonical"), LOOSE_VERSIONS)
def test_loose_parsing_accepts_v_prefixes_short_forms_and_padded_parts(
    text: str, canonical: str
) -> None:
    version = Version.parse(text)

    assert str(version) == canonical
    assert version.original == text


@pytest.mark.parametrize("text", NOT_VERSIONS)
def test_text_that_is_no_version_is_rejected_with_its_text_in_the_error(text: str) -> None:
    with pytest.raises(ValueError, match="invalid semantic version") as caught:
        Version.parse(text)

    assert repr(text[:40]) in str(caught.value)


@pytest.mark.parametrize("text", STRICT_VERSIONS)
def test_strict_parsing_accepts_exact_semver(text: str) -> None:
    assert str(Version.parse(text, strict=True)) == text


@pytest.mark.parametrize("text", NOT_STRICT_VERSIONS)
def test_strict_parsing_rejects_v_prefixes_short_forms_and_leading_zeros(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        Version.parse(text, strict=True)


def test_parsing_splits_out_every_part() -> None:
    version = Version.parse("1.2.3-beta.1+build.123")

    assert (version.major, version.minor, version.patch) == (1, 2, 3)
    assert version.prerelease == "beta.1"
    assert version.build == "build.123"
    assert version.is_prerelease


# fluxcd/pkg/version.ParseVersion's own table: strict SemVer, optionally after one "v".
@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("v1.2.3", True),
        ("1.2.3", True),
        ("v1.2.0-x.Y.0+metadata", True),
        ("v1.2.0-x.Y.0+metadata-width-hypen", True),
        ("v1.2.3-rc1-with-hypen", True),
        ("v1.0", False),
        ("v1", False),
        ("v1.2.beta", False),
        ("v1.2-5", False),
        ("v1.2-beta.5", False),
        ("\nv1.2", False),
        ("v1.2.3.4", False),
        ("vv1.2.3", False),
        ("v01.2.3", False),
    ],
)
def test_tags_parse_the_way_flux_reads_candidate_versions(tag: str, valid: bool) -> None:
    if valid:
        assert Version.parse_tag(tag).original == tag
    else:
        with pytest.raises(ValueError, match="invalid version tag"):
            Version.parse_tag(tag)


def test_versions_built_directly_are_validated_and_get_an_original() -> None:
    assert Version(1, 2, 3, "rc.1").original == "1.2.3-rc.1"
    with pytest.raises(ValueError, match="leading zero"):
        Version(1, prerelease="01")
    with pytest.raises(ValueError, match="outside"):
        Version(-1)


# --- precedence ----------------------------------------------------------------------------

# (left, right, sign of left.compare(right))
COMPARISONS = [
    ("1.2.3", "1.5.1", -1),
    ("2.2.3", "1.5.1", 1),
    ("2.2.3", "2.2.2", 1),
    ("3.2-beta", "3.2-beta", 0),
    ("1.3", "1.1.4", 1),
    ("4.2", "4.2-beta", 1),
    ("4.2-beta", "4.2", -1),
    ("4.2-alpha", "4.2-beta", -1),
    ("4.2-beta.2", "4.2-beta.1", 1),
    ("4.2-beta2", "4.2-beta1", 1),
    ("4.2-beta", "4.2-beta.2", -1),
    ("4.2-beta", "4.2-beta.foo", -1),
    ("4.2-beta.foo", "4.2-beta", 1),
    ("1.2+bar", "1.2+baz", 0),
    ("1.0.0-beta.4", "1.0.0-beta.-2", -1),
    ("1.0.0-beta.-2", "1.0.0-beta.-3", -1),
    ("1.0.0-beta.-3", "1.0.0-beta.5", 1),
    ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", -1),
    ("7.43.0-SNAPSHOT.FOO", "7.43.0-SNAPSHOT.103", 1),
    ("1.0.0-BETA", "1.0.0-alpha", -1),
    ("1.0.0-rc.1", "1.0.0-rc.1.1", -1),
    ("v1.2.3", "1.2.3", 0),
    # Beyond 2**64-1 an identifier is compared as text, as Masterminds does.
    ("1.0.0-99999999999999999999", "1.0.0-100000000000000000000", 1),
]


@pytest.mark.parametrize(("left", "right", "expected"), COMPARISONS)
def test_precedence_follows_semver(left: str, right: str, expected: int) -> None:
    a, b = Version.parse(left), Version.parse(right)

    assert a.compare(b) == expected
    assert b.compare(a) == -expected
    assert (a < b, a == b, a > b) == (expected < 0, expected == 0, expected > 0)


def test_equal_versions_hash_alike_whatever_their_build_or_spelling() -> None:
    assert len({Version.parse("1.0.0+a"), Version.parse("v1.0.0+b"), Version.parse("1")}) == 1


def test_sorting_orders_short_forms_by_their_full_value() -> None:
    raw = ["1.2.3", "1.0", "1.3", "2", "0.4.2"]

    ordered = sorted(Version.parse(text) for text in raw)

    assert [v.original for v in ordered] == ["0.4.2", "1.0", "1.2.3", "1.3", "2"]


# --- ranges ------------------------------------------------------------------------------

# (range, version, whether the version is in the range)
CHECKS = [
    # = and no operator: exact unless a part is a wildcard or missing, then a ~ range
    ("=2.0.0", "2.0.0", True),
    ("=2.0.0", "1.2.3", False),
    ("2.0.0+build", "2.0.0", True),
    ("=2.0", "2.0.1", True),
    ("= 2.0", "1.2.3", False),
    ("4.1", "4.1.0", True),
    ("2", "2.1.1", True),
    ("2", "3.4.5", False),
    ("=0", "1", False),
    ("0.0.0", "1.2.3", False),
    # !=
    ("!=4.1.0", "4.1.0", False),
    ("!=4.1.0", "4.1.1", True),
    ("!=4.1", "4.1.1", False),
    ("!=4.1", "5.1.0", True),
    ("!=4.x", "4.1.0", False),
    ("!=4.x", "5.1.0", True),
    ("!=4.1.x", "4.2.0", True),
    ("!=4.2.x", "4.2.3", False),
    ("!=4.1-alpha", "4.1.0", True),
    ("!=4.1-alpha", "4.1.0-alpha", False),
    ("!=4.1-alpha", "4.1.1-alpha", False),
    # >: with a wildcard only the written parts must be greater
    (">1.1", "4.1.0", True),
    (">1.1", "1.1.0", False),
    (">11", "11.1.0", False),
    (">11.1", "11.1.1", False),
    (">11.1", "11.2.1", True),
    (">0", "0", False),
    (">0", "1", True),
    (">1.2.3-alpha.1", "1.2.3-alpha.2", True),
    (">1.2.3-alpha.1", "1.3.3-alpha.2", True),
    # <
    ("<11", "0.1.0", True),
    ("<11", "11.1.0", False),
    ("<1.1", "1.1.0", False),
    ("<1.x", "0.1.1", True),
    ("<1.x", "1.1.1", False),
    ("<1.1.x", "1.1.500", False),
    ("<1.2.x", "1.1.1", True),
    # >= and its alias =>
    (">=1.1", "1.1.0", True),
    (">=1.1", "0.0.9", False),
    (">=11.1", "11.0.2", False),
    ("=> 1.2", "1.2.0", True),
    ("=> 1.2", "1.1.9", False),
    # <= and its alias =<: with a wildcard, up to the end of what was written
    ("<=1.1", "1.1.1", True),
    ("<=1.1", "1.2.3", False),
    ("<=11", "11.2.3", True),
    ("<=11", "12.2.3", False),
    ("<=4.5", "4.6.3", False),
    ("<=1.1.x", "1.2.500", False),
    ("=< 1.2", "1.2.5", True),
    ("=< 1.2", "1.3.0", False),
    # ~ and ~>: patch-level changes, or minor-level when no minor is given
    ("~1.2.3", "1.2.5", True),
    ("~1.2.3", "1.2.2", False),
    ("~1.2.3", "1.3.0", False),
    ("~1", "1.99.0", True),
    ("~1", "2.0.0", False),
    ("~2.3", "2.3.9", True),
    ("~2.3", "2.4.0", False),
    ("~1.2.x", "1.2.0", True),
    ("~1.2.x", "1.3.0", False),
    ("~1.x", "1.4", True),
    ("~1.x", "2.1.1", False),
    ("~0.2.3", "0.2.5", True),
    ("~0.2.3", "0.3.5", False),
    ("~>1.2", "1.2.9", True),
    ("~>1.2", "1.3.0", False),
    ("~> 1.2.3", "1.2.4", True),
    ("~*", "2.1.1", True),
    # ^: same major, or below 1.0.0 same minor, or below 0.1.0 same patch
    ("^1.2.3", "1.8.9", True),
    ("^1.2.3", "1.2.1", False),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.x", "1.2.0", True),
    ("^1.2.x", "1.1.9", False),
    ("^2.3", "2.99.0", True),
    ("^2.3", "3.0.0", False),
    ("^2.x", "2.0.0", True),
    ("^1", "2.8.9", False),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.2.2", False),
    ("^0.2.3", "0.3.0", False),
    ("^0.2", "0.2.0", True),
    ("^0.2", "0.5.6", False),
    ("^0.0.3", "0.0.3", True),
    ("^0.0.3", "0.0.4", False),
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("^0", "0.0.0", True),
    ("^0", "0.99.0", True),
    ("^0", "1.0.0", False),
    ("^0.0.0", "1.2.3", False),
    # wildcards in any position, and * alone
    ("*", "0.0.0", True),
    ("*", "4.5.6", True),
    ("x", "1.0.0", True),
    ("X.x.X", "7.0.0", True),
    ("*.2.3", "9.9.9", True),
    ("2.*", "2.1.1", True),
    ("2.*", "3.4.5", False),
    ("2.1.*", "2.2.1", False),
    ("1.x.3", "1.9.0", True),
    ("0.x.x", "1.2.3", False),
    ("0.0.x", "0.0.7", True),
    (">= 1.2.x", "1.2.0", True),
    (">= 1.2.x", "1.1.9", False),
    ("<= 2.x", "2.99.99", True),
    ("<= 2.x", "3.0.0", False),
    # hyphen ranges: >= A <= B, each end with its own wildcard rules
    ("1.2 - 1.4.5", "1.2.0", True),
    ("1.2 - 1.4.5", "1.4.5", True),
    ("1.2 - 1.4.5", "1.4.6", False),
    ("1.2 - 1.4.5", "1.1.9", False),
    ("2.3.4 - 4.5", "4.5.9", True),
    ("2.3.4 - 4.5", "4.6.0", False),
    ("3 - 4", "4.5.0", True),
    ("v1.0.0 - v2.0.0", "v2.0.0", True),
    ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", True),
    ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", True),
    (">1, 2 - 3", "2.5.0", True),
    ("1.0.0-alpha - 2.0.0", "1.5.0-beta", True),
    # without blanks around it a hyphen starts a pre-release: 1.2.0-1.4.5, a ~1.2 range
    ("1.2-1.4.5", "1.2.7", True),
    ("1.2-1.4.5", "1.4.5", False),
    ("1.1-3", "4.3.2", False),
    # AND by comma or blanks, OR by ||
    (">1.1, <2", "1.1.1", False),
    (">1.1, <2", "1.2.1", True),
    (">1.1 <2", "1.2.1", True),
    (">1.1    <3", "4.3.2", False),
    ("> 1.1 , <  3", "2.0.0", True),
    ("\t>=1.0\n<2 ", "1.5.0", True),
    (">=1.1, <2, !=1.2.3", "1.2.3", False),
    (">=1.1 <2 !=1.2.3", "1.2.4", True),
    (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", True),
    (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", False),
    (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", True),
    (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", False),
    (">= 1.2 < 3.0.0 || >= 4.2.3", "2.5.0", True),
    (">= 1.2 < 3.0.0 || >= 4.2.3", "3.0.0", False),
    (">= 1.2 < 3.0.0 || >= 4.2.3", "4.2.3", True),
    ("^1.0 || ~2.1 || 3.x", "2.1.4", True),
    ("^1.0 || ~2.1 || 3.x", "2.2.0", False),
    # pre-releases match only an AND group that names a pre-release somewhere
    ("*", "1.2.3-alpha.1", False),
    ("*-0", "1.2.3-alpha.1", True),
    (">=1.2.3", "1.3.0-rc.1", False),
    (">=1.2.3-0", "1.3.0-rc.1", True),
    (">=1.2.3-0", "1.2.3-alpha", True),
    (">=1.2.3-BETA", "1.2.3-alpha", True),
    (">=0", "0.0.1-alpha", False),
    (">=0-0", "0.0.1-alpha", True),
    (">0", "0.0.1-alpha", False),
    (">0-0", "0.0.1-alpha", False),
    (">0.0.0-0", "0.0.0-alpha", True),
    ("<0-z", "0.0.0-alpha", True),
    ("<=1.1", "0.1.0-alpha", False),
    ("<=1.1-a", "0.1.0-alpha", True),
    ("!=4.1", "5.1.0-alpha.1", False),
    ("^1.x", "1.1.1-beta1", False),
    ("^1.2.0-alpha.0", "1.2.1-alpha.1", True),
    ("^1.2.0-alpha.2", "1.2.0-alpha.1", False),
    ("^1.1.2-alpha", "1.2.1-beta1", True),
    ("^0.2.3-beta.2", "0.2.4-beta.2", True),
    ("^0.2.3-beta.2", "0.3.4-beta.2", False),
    ("~1.2.3-beta.2", "1.2.4-beta.2", True),
    ("~1.2.3-beta.2", "1.3.4-beta.2", False),
    ("~1.1.1-beta", "1.1.1-alpha", False),
    ("~1.1.1-beta", "1.1.1", True),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", True),
    (">= 1.0.0  <= 2.0.0-beta", "3.0.0", False),
    (">=1.0.0-0 <2", "1.5.0-rc.1", True),
    ("<2 >=1.0.0-0", "1.5.0-rc.1", True),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", False),
    (">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3", "1.0.1-beta", True),
    (">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3", "1.0.1-beta", False),
    (">=1.0.0-0 !=1.2.x", "1.2.3-alpha", True),
    (">=1.0.0-0 !=1.x", "1.2.3-alpha", False),
    # v prefixes on either side
    ("v1.2.3", "1.2.3", True),
    (">= v1.2", "v1.3.0", True),
    ("^v1.2.0", "v1.5.0", True),
    ("^2", "v2", True),
    ("v2.3.5-20161202202307-sha.e8fc5e5", "2.3.5-20161202202307-sha.e8fc5e5", True),
    # zero-padded (CalVer-ish) numbers are read as numbers
    (">=2024.01", "2024.2.0", True),
    # Masterminds quirks, kept so a range selects what Flux selects
    ("~0.0.0", "5.0.0", True),
    ("=*", "5.0.0", True),
    ("^*", "0.0.0", True),
    ("^*", "1.2.3", False),
    ("<=*", "0.0.9", True),
    ("<=*", "0.1.0", False),
    (">*", "0.0.0", False),
    (">*", "0.0.1", True),
    ("!=*", "0.0.0", False),
    ("!=*", "3.0.0", True),
    ("<*", "0.0.0", False),
]


@pytest.mark.parametrize(("constraint", "version", "expected"), CHECKS)
def test_range_admits_exactly_what_masterminds_admits(
    constraint: str, version: str, expected: bool
) -> None:
    assert Constraint.parse(constraint).check(Version.parse(version)) is expected


# (range, a fragment of the error that names what is wrong)
INVALID_CONSTRAINTS = [
    ("", "empty"),
    ("   ", "empty"),
    ("1.0 ||", "empty"),
    ("|| 1.0", "empty"),
    ("foo", "'foo'"),
    (">= bar", "'>= bar'"),
    ("BAR >= 1.2.3", "'BAR >= 1.2.3'"),
    ("12.3.4.1234", "'.1234'"),
    ("12.3.34~ 1.2.3", "'~ 1.2.3'"),
    ("1.2.3,", "'1.2.3,'"),
    (", 1.2.3", "', 1.2.3'"),
    ("1.2.3,,1.2.4", "',1.2.4'"),
    (">==1", "'>==1'"),
    ("=~1", "'=~1'"),
    ("~ >1", "'~ >1'"),
    ("V1.2.3", "'V1.2.3'"),
    ("1.2.3 -", "'-'"),
    ("1.2.3-", "'-'"),
    ("1.x.y", "'.y'"),
    ("xx", "'xx'"),
    ("1|2", "'1|2'"),
    (">=1.2.3-01", "leading zero"),
    (">=18446744073709551616", "2**64-1"),
    # a hyphen range swallows the blank that separated it from the comparator before it
    (">1 2 - 3", "'>1'"),
    # and a || glued to a hyphen range is read as part of its version
    ("2.3.1 - 0.*||3.3.1", "'.1'"),
]


@pytest.mark.parametrize(("constraint", "fragment"), INVALID_CONSTRAINTS)
def test_invalid_ranges_are_rejected_naming_the_bad_part(constraint: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="improper constraint") as caught:
        Constraint.parse(constraint)

    assert fragment in str(caught.value)


def test_ranges_longer_than_512_bytes_are_rejected() -> None:
    with pytest.raises(ValueError, match="longer than 512 bytes"):
        Constraint.parse(">=1.0.0 " * 64 + "<2")


def test_ranges_may_have_32_alternatives_but_not_33() -> None:
    assert Constraint.parse(" || ".join(["1"] * 32)).check("1.2.3")
    with pytest.raises(ValueError, match="more than 32 alternatives"):
        Constraint.parse(" || ".join(["1"] * 33))


def test_check_parses_text_loosely_and_rejects_non_versions() -> None:
    constraint = Constraint.parse("^1.2")

    assert constraint.check("v1.4")
    with pytest.raises(ValueError, match="'main'"):
        constraint.check("main")


def test_a_range_keeps_the_text_it_was_written_as() -> None:
    constraint = Constraint.parse(">= 1.2, < 2 || 3.x")

    assert str(constraint) == ">= 1.2, < 2 || 3.x"
    assert constraint == Constraint.parse(">= 1.2, < 2 || 3.x")


# --- picking the latest matching tag -----------------------------------------------------

LATEST = [
    (">=1.0.0", "v1.10.0"),
    ("*", "v1.10.0"),
    ("1.x", "v1.10.0"),
    ("~1.2", "v1.2.0"),
    ("<1.10", "1.9.9"),
    ("1.0.0 - 1.9", "1.9.9"),
    ("^1.0.0 || >=2.0.0-rc", "v2.0.0-rc.1"),
    (">=1.0.0-0", "v2.0.0-rc.1"),
    ("2.0.0-rc.1", "v2.0.0-rc.1"),
    (">=3", None),
    ("<1", None),
]


@pytest.mark.parametrize(("constraint", "expected"), LATEST)
def test_latest_returns_the_original_text_of_the_highest_matching_tag(
    constraint: str, expected: str | None
) -> None:
    assert latest(TAGS, constraint) == expected


def test_latest_accepts_a_parsed_constraint_and_any_iterable() -> None:
    assert latest(iter(TAGS), Constraint.parse("~1.0")) == "v1.0.0"
    assert latest([], "*") is None


def test_latest_with_strict_tags_skips_tags_flux_would_not_read_as_versions() -> None:
    tags = ["v1.0.0", "v1.1.0", "v1.2", "1.02.0"]

    assert latest(tags, "*") == "1.02.0"
    assert latest(tags, "*", strict_tags=True) == "v1.1.0"


def test_latest_breaks_ties_in_favour_of_the_later_candidate() -> None:
    tags = ["1.0.0+build.1", "v1.0.0", "1.0.0+build.2", "0.9.0"]

    assert latest(tags, "1.0.0") == "1.0.0+build.2"
    assert latest(reversed(tags), "1.0.0") == "1.0.0+build.1"


def test_latest_reports_an_invalid_range_instead_of_matching_nothing() -> None:
    with pytest.raises(ValueError, match="improper constraint"):
        latest(TAGS, ">= one")

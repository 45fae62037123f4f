"""Which tag an ImagePolicy picks: every ordering, filters and extracts, pre-releases."""

from __future__ import annotations

from typing import Any

import pytest

from tide.api.image import ImagePolicySpec
from tide.image.choose import InvalidPolicy, NoTagChosen, TagChooser

pytestmark = pytest.mark.unit


def chooser(policy: dict[str, Any], filter_tags: dict[str, str] | None = None) -> TagChooser:
    spec: dict[str, Any] = {"imageRepositoryRef": {"name": "app"}, "policy": policy}
    if filter_tags is not None:
        spec["filterTags"] = filter_tags
    return TagChooser.from_spec(ImagePolicySpec.model_validate(spec))


def pick(policy: dict[str, Any], tags: list[str], filter_tags: dict[str, str] | None = None) -> str:
    return chooser(policy, filter_tags).choose(tags).tag


TAGS = ["1.0.0", "1.2.3", "1.10.0", "v1.11.0", "2.0.0", "2.1.0-rc.1", "latest", "1.2", "0.9.9"]


@pytest.mark.parametrize(
    ("range_", "expected"),
    [
        ("1.x", "v1.11.0"),
        (">=1.0.0 <2.0.0", "v1.11.0"),
        ("~1.2", "1.2.3"),
        ("^1.2", "v1.11.0"),
        (">=1.0.0", "2.0.0"),
        ("<1.0.0", "0.9.9"),
    ],
)
def test_semver_picks_the_highest_strict_version_in_range(range_: str, expected: str) -> None:
    assert pick({"semver": {"range": range_}}, TAGS) == expected


def test_semver_skips_prereleases_unless_the_range_names_one() -> None:
    assert pick({"semver": {"range": ">=2.0.0"}}, TAGS) == "2.0.0"
    assert pick({"semver": {"range": ">=2.1.0-0"}}, TAGS) == "2.1.0-rc.1"


def test_semver_release_candidates_through_a_filter() -> None:
    tags = ["1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.2.0"]
    got = pick({"semver": {"range": "^1.x-0"}}, tags, {"pattern": ".*-rc.*"})
    assert got == "1.1.0-rc.2"


def test_semver_loose_versions_are_not_versions_as_in_flux() -> None:
    with pytest.raises(NoTagChosen, match=r"no tag of the 3 listed satisfies semver range '1\.x'"):
        pick({"semver": {"range": "1.x"}}, ["1.2", "v1", "latest"])


def test_alphabetical_asc_picks_the_last_and_desc_the_first() -> None:
    tags = ["b", "c", "a"]
    assert pick({"alphabetical": {"order": "asc"}}, tags) == "c"
    assert pick({"alphabetical": {"order": "desc"}}, tags) == "a"
    assert pick({"alphabetical": {}}, tags) == "c"


def test_numerical_orders_numbers_not_text() -> None:
    tags = ["9", "10", "2.5"]
    assert pick({"numerical": {"order": "asc"}}, tags) == "10"
    assert pick({"numerical": {"order": "desc"}}, tags) == "2.5"


def test_numerical_refuses_a_value_that_is_not_a_number() -> None:
    with pytest.raises(NoTagChosen, match="tag 'latest' gives 'latest', which is not a number"):
        pick({"numerical": {}}, ["1", "latest"])


def test_extract_orders_by_the_named_group_and_reports_the_tag() -> None:
    tags = ["main-abc1234-1700000300", "main-def5678-1700000100", "dev-0000000-1800000000"]
    got = pick(
        {"numerical": {"order": "asc"}},
        tags,
        {"pattern": r"^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
    )
    assert got == "main-abc1234-1700000300"


def test_extract_templates_follow_go_expand() -> None:
    tags = ["RELEASE.2023-01-02T03-04-05Z", "RELEASE.2024-01-02T03-04-05Z", "other"]
    got = pick(
        {"alphabetical": {"order": "asc"}},
        tags,
        {"pattern": r"^RELEASE\.(?P<timestamp>.*)Z$", "extract": "${timestamp}"},
    )
    assert got == "RELEASE.2024-01-02T03-04-05Z"
    one = chooser({"alphabetical": {}}, {"pattern": r"^v(\d+)-(\w+)$", "extract": "$2-$1-$$"})
    assert one.value("v12-beta") == "beta-12-$"


def test_filter_without_match_says_so() -> None:
    with pytest.raises(NoTagChosen, match=r"none of the 2 tags matches spec\.filterTags\.pattern"):
        pick({"alphabetical": {}}, ["a", "b"], {"pattern": "^z"})


def test_no_tags_at_all_is_not_a_match() -> None:
    with pytest.raises(NoTagChosen, match="lists no tags"):
        pick({"alphabetical": {}}, [])


@pytest.mark.parametrize(
    ("policy", "filter_tags", "message"),
    [
        ({"semver": {"range": "not a range"}}, None, "spec.policy.semver.range 'not a range'"),
        ({"alphabetical": {}}, {"pattern": "(unclosed"}, "spec.filterTags.pattern '(unclosed'"),
        (
            {"numerical": {}},
            {"pattern": "^(?P<ts>[0-9]+)$", "extract": "$build"},
            "refers to group 'build', which spec.filterTags.pattern",
        ),
        ({"numerical": {}}, {"pattern": "^[0-9]+$", "extract": "$1"}, "refers to group '1'"),
        ({}, None, "exactly one of semver, alphabetical or numerical"),
        (
            {"alphabetical": {}, "numerical": {}},
            None,
            "not alphabetical and numerical",
        ),
    ],
)
def test_an_unusable_policy_is_refused_with_the_field(
    policy: dict[str, Any], filter_tags: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(InvalidPolicy, match=message.replace("(", r"\(").replace(".", r"\.")):
        chooser(policy, filter_tags)


def test_newer_follows_the_order() -> None:
    semver = chooser({"semver": {"range": ">=1.0.0"}})
    assert semver.newer(semver.key("1.2.0"), semver.key("1.1.0"))
    assert not semver.newer(semver.key("1.1.0"), semver.key("1.1.0"))
    desc = chooser({"alphabetical": {"order": "desc"}})
    assert desc.newer(desc.key("a"), desc.key("b"))


def test_ties_go_to_the_tag_seen_last() -> None:
    assert pick({"semver": {"range": "1.x"}}, ["1.0.0", "v1.0.0"]) == "v1.0.0"

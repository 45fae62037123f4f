"""spec.url and spec.ref are read as Flux reads them; revisions are named as Flux names them."""

from __future__ import annotations

import pytest

from tide.source.oci.refs import (
    InvalidReference,
    InvalidURL,
    NoMatchingTag,
    Reference,
    Repository,
    choose_tag,
    parse_url,
    revision,
    wanted_reference,
)

pytestmark = pytest.mark.unit

DIGEST = "sha256:" + "ab" * 32
TAGS = ["latest", "1.0.0", "v1.2.0", "1.10.1", "v1.3.0-rc.1", "v1.2", "2.0.0", "sha-1a2b"]


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("oci://ghcr.io/org/manifests/podinfo", Repository("ghcr.io", "org/manifests/podinfo")),
        ("oci://127.0.0.1:5000/app", Repository("127.0.0.1:5000", "app")),
        ("oci://localhost/team/app/", Repository("localhost", "team/app")),
        ("oci://stefanprodan/podinfo", Repository("index.docker.io", "stefanprodan/podinfo")),
        ("oci://nginx", Repository("index.docker.io", "library/nginx")),
    ],
)  # fmt: skip
def test_urls_split_into_registry_and_path(url: str, repository: Repository) -> None:
    assert parse_url(url) == repository


def test_docker_hub_is_reached_on_its_api_host() -> None:
    assert parse_url("oci://docker.io/team/app").api_host == "registry-1.docker.io"
    assert parse_url("oci://ghcr.io/team/app").api_host == "ghcr.io"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://ghcr.io/app", "URL must be in format 'oci://<domain>/<org>/<repo>'"),
        ("oci://ghcr.io/app:v1", "URL must not contain a tag; remove ':v1'"),
        (f"oci://ghcr.io/app@{DIGEST}", "URL must not contain a digest"),
        ("oci://ghcr.io/Team/App", "must be lower-case"),
        ("oci://ghcr.io/a//b", "must be lower-case"),
    ],
)
def test_urls_that_name_no_repository_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=message):
        parse_url(url)


@pytest.mark.parametrize(
    ("ref", "wanted"),
    [
        ({}, Reference(tag="latest")),
        ({"tag": "v1"}, Reference(tag="v1")),
        ({"tag": "v1", "semver_range": "1.x"}, None),
        ({"tag": "v1", "semver_range": "1.x", "digest": DIGEST}, Reference(digest=DIGEST)),
    ],
)
def test_digest_beats_semver_beats_tag_and_latest_is_the_default(
    ref: dict[str, str], wanted: Reference | None
) -> None:
    arguments = {"tag": None, "semver_range": None, "digest": None, **ref}
    assert wanted_reference(**arguments) == wanted


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"digest": "sha256:abc"}, "must be 'sha256:' and 64 lower-case hex digits"),
        ({"tag": "-bad"}, "is not a valid OCI tag"),
    ],
)
def test_malformed_references_are_refused(ref: dict[str, str], message: str) -> None:
    arguments = {"tag": None, "semver_range": None, "digest": None, **ref}
    with pytest.raises(InvalidReference, match=message):
        wanted_reference(**arguments)


@pytest.mark.parametrize(
    ("semver_range", "semver_filter", "tag"),
    [
        ("*", None, "2.0.0"),
        ("1.x", None, "1.10.1"),
        ("<1.5", None, "v1.2.0"),
        (">=1.3.0-0 <2", None, "1.10.1"),
        (">=1.0.0-0", ".*-rc.*", "v1.3.0-rc.1"),
        ("*", "^v", "v1.2.0"),
    ],
)
def test_the_highest_tag_in_the_range_wins_among_those_the_filter_keeps(
    semver_range: str, semver_filter: str | None, tag: str
) -> None:
    assert choose_tag(TAGS, semver_range, semver_filter).tag == tag


def test_a_tag_that_is_not_strict_semver_is_never_chosen() -> None:
    with pytest.raises(NoMatchingTag, match=r"no match found for semver: ~1\.2\.0"):
        choose_tag(["v1.2", "1.2", "latest"], "~1.2.0", None)


@pytest.mark.parametrize(
    ("semver_range", "semver_filter", "message"),
    [
        ("not a range", None, "spec.ref.semver 'not a range'"),
        ("*", "(unclosed", "spec.ref.semverFilter '\\(unclosed' is not a valid regular expression"),
    ],
)
def test_a_bad_range_or_filter_is_a_configuration_error(
    semver_range: str, semver_filter: str | None, message: str
) -> None:
    with pytest.raises(InvalidReference, match=message):
        choose_tag(TAGS, semver_range, semver_filter)


def test_revisions_are_tag_at_digest_or_the_digest_alone() -> None:
    assert revision(Reference(tag="v1"), DIGEST) == f"v1@{DIGEST}"
    assert revision(Reference(digest=DIGEST), DIGEST) == DIGEST

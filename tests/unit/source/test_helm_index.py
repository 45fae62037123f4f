"""A repository index is checked, normalised and searched the way Helm and Flux do it."""

from __future__ import annotations

import json

import pytest

from tide.source.helm.index import (
    ChartNotFound,
    IndexInvalid,
    parse_index,
    resolve_reference_url,
)

pytestmark = pytest.mark.unit

INDEX = """\
apiVersion: v1
generated: "2024-01-02T03:04:05Z"
entries:
  demo:
    - name: demo
      version: 1.0.0
      urls: [demo-1.0.0.tgz]
      digest: aa
      created: 2024-01-01T00:00:00Z
    - name: demo
      version: 1.10.0
      urls: [demo-1.10.0.tgz]
    - name: demo
      version: 2.0.0-rc.1
      urls: [demo-2.0.0-rc.1.tgz]
    - name: demo
      version: 1.2.0
      urls: [https://elsewhere.example/demo-1.2.0.tgz]
  other:
    - name: other
      version: 0.1.0
      urls: [other-0.1.0.tgz]
"""


def test_versions_are_sorted_newest_first() -> None:
    index = parse_index(INDEX.encode())

    assert [v.version for v in index.versions("demo")] == ["2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"]


def test_timestamps_stay_the_text_that_was_written() -> None:
    index = parse_index(INDEX.encode())

    assert index.document["generated"] == "2024-01-02T03:04:05Z"
    assert index.versions("demo")[-1].created == "2024-01-01T00:00:00Z"


def test_the_stored_form_is_json_and_the_same_for_the_same_index() -> None:
    reordered = INDEX.replace("apiVersion: v1\n", "") + "apiVersion: v1\n"

    first, second = parse_index(INDEX.encode()), parse_index(reordered.encode())

    assert first.to_bytes() == second.to_bytes()
    assert json.loads(first.to_bytes())["entries"]["other"][0]["version"] == "0.1.0"
    assert parse_index(first.to_bytes()).to_bytes() == first.to_bytes()


def test_a_different_index_gives_different_bytes() -> None:
    changed = INDEX.replace("version: 0.1.0", "version: 0.2.0")

    assert parse_index(INDEX.encode()).to_bytes() != parse_index(changed.encode()).to_bytes()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty"),
        ("apiVersion: v1\nentries: [\n", "not valid YAML: "),
        ("- a\n- b\n", "expected a mapping at the top level, found a list"),
        ("entries: {}\n", "no API version specified"),
        ("apiVersion: v1\nentries: [a]\n", "entries: expected a mapping of chart names"),
        ("apiVersion: v1\nentries:\n  demo: {}\n", "entries.demo: expected a list"),
        (
            "apiVersion: v1\nentries:\n  demo:\n    - name: demo\n      version: 1.0\n",
            "entries.demo[0].version: expected a string, found the number 1.0",
        ),
        (
            "apiVersion: v1\nentries:\n  demo:\n    - {name: demo, version: 1.0.0, urls: x}\n",
            "entries.demo[0].urls: expected a list of strings",
        ),
    ],
)
def test_malformed_indexes_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(IndexInvalid) as caught:
        parse_index(text.encode())

    assert str(caught.value).startswith("malformed index.yaml: ")
    assert problem in str(caught.value)


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(IndexInvalid) as caught:
        parse_index(b"apiVersion: v1\nentries: a: b\n")

    message = str(caught.value)
    assert message.startswith("malformed index.yaml: not valid YAML: mapping values are not")
    assert message.endswith(" at line 2, column 11")


def test_invalid_entries_are_dropped_as_helm_drops_them() -> None:
    text = """\
apiVersion: v1
entries:
  demo:
    - name: demo
      version: not-semver
    - version: 1.0.0
    - name: ../escape
      version: 1.0.0
    - name: demo
      version: 1.0.0
      type: plugin
    -
    - name: demo
      version: 0.9.0
"""
    index = parse_index(text.encode())

    assert [v.version for v in index.versions("demo")] == ["0.9.0"]
    assert len(index.skipped) == 5
    assert any("'not-semver' is invalid" in line for line in index.skipped)


def test_entries_without_api_version_get_v1() -> None:
    index = parse_index(INDEX.encode())

    assert index.document["entries"]["other"][0]["apiVersion"] == "v1"


def test_a_star_range_picks_the_latest_stable_release() -> None:
    assert parse_index(INDEX.encode()).get("demo", "*").version == "1.10.0"
    assert parse_index(INDEX.encode()).get("demo", "").version == "1.10.0"


def test_an_exact_version_wins_even_when_a_range_would_skip_it() -> None:
    assert parse_index(INDEX.encode()).get("demo", "2.0.0-rc.1").version == "2.0.0-rc.1"


def test_a_range_picks_the_highest_version_inside_it() -> None:
    index = parse_index(INDEX.encode())

    assert index.get("demo", "~1.2").version == "1.2.0"
    assert index.get("demo", "<1.5").version == "1.2.0"
    assert index.get("demo", ">=2.0.0-0").version == "2.0.0-rc.1"


def test_among_equal_versions_the_most_recently_created_wins() -> None:
    text = """\
apiVersion: v1
entries:
  demo:
    - {name: demo, version: 1.0.0+b, created: "2024-02-01T00:00:00Z", urls: [new.tgz]}
    - {name: demo, version: 1.0.0+a, created: "2024-01-01T00:00:00Z", urls: [old.tgz]}
"""

    assert parse_index(text.encode()).get("demo", "1.x").urls == ("new.tgz",)


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("absent", "*", "no chart named 'absent' in the repository index"),
        ("demo", ">=5", "no 'demo' chart with version matching '>=5' found (newest versions: "),
    ],
)
def test_missing_charts_and_versions_are_named(name: str, version: str, message: str) -> None:
    with pytest.raises(ChartNotFound) as caught:
        parse_index(INDEX.encode()).get(name, version)

    assert message in str(caught.value)


def test_an_invalid_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="improper constraint"):
        parse_index(INDEX.encode()).get("demo", ">=>1")


def test_the_index_digest_is_read_without_its_prefix() -> None:
    text = INDEX.replace("digest: aa", "digest: sha256:aa")

    assert parse_index(text.encode()).get("demo", "1.0.0").digest == "aa"


@pytest.mark.parametrize(
    ("base", "reference", "resolved"),
    [
        ("http://h:1/charts", "demo-1.0.0.tgz", "http://h:1/charts/demo-1.0.0.tgz"),
        ("http://h:1/charts/", "demo-1.0.0.tgz", "http://h:1/charts/demo-1.0.0.tgz"),
        ("http://h:1", "sub/demo.tgz", "http://h:1/sub/demo.tgz"),
        ("http://h:1/charts?token=x", "demo.tgz", "http://h:1/charts/demo.tgz?token=x"),
        ("http://h:1/charts", "https://cdn.example/demo.tgz", "https://cdn.example/demo.tgz"),
    ],
)
def test_chart_urls_resolve_against_the_repository_as_helm_resolves_them(
    base: str, reference: str, resolved: str
) -> None:
    assert resolve_reference_url(base, reference) == resolved

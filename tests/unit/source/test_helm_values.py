"""Values files merge in order, deeply for mappings, as Flux's ``MergeMaps`` does."""

from __future__ import annotations

import pytest
import yaml

from tide.source.helm.values import (
    ValuesFilesError,
    dump_values,
    effective_values_files,
    merge_values_files,
    parse_values,
)
from tide.yamlio import merge_maps

pytestmark = pytest.mark.unit

FILES = {
    "values.yaml": b"image:\n  repo: app\n  tag: v1\nports: [80, 443]\nname: base\n",
    "prod.yaml": b"image:\n  tag: v2\nports: [8080]\nreplicas: 3\n",
    "empty.yaml": b"",
    "list.yaml": b"- a\n",
}


def read(path: str) -> bytes | None:
    return FILES.get(path)


def test_later_files_win_and_mappings_merge_at_every_depth() -> None:
    merged, used = merge_values_files(["values.yaml", "prod.yaml"], read)

    assert merged == {
        "image": {"repo": "app", "tag": "v2"},
        "ports": [8080],
        "name": "base",
        "replicas": 3,
    }
    assert used == ["values.yaml", "prod.yaml"]


def test_order_matters() -> None:
    merged, _ = merge_values_files(["prod.yaml", "values.yaml"], read)

    assert merged["image"]["tag"] == "v1"
    assert merged["ports"] == [80, 443]


def test_a_mapping_replaces_a_scalar_and_a_scalar_replaces_a_mapping() -> None:
    assert merge_maps({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert merge_maps({"a": {"b": 2}}, {"a": None}) == {"a": None}


def test_merging_leaves_the_inputs_alone() -> None:
    base = {"a": {"b": 1}}

    merge_maps(base, {"a": {"c": 2}})

    assert base == {"a": {"b": 1}}


def test_a_missing_file_is_an_error_that_names_it() -> None:
    with pytest.raises(ValuesFilesError, match=r"no values file found at path 'absent\.yaml'"):
        merge_values_files(["values.yaml", "absent.yaml"], read)


def test_missing_files_can_be_ignored_and_are_not_reported_as_used() -> None:
    merged, used = merge_values_files(["absent.yaml", "prod.yaml"], read, ignore_missing=True)

    assert used == ["prod.yaml"]
    assert merged["replicas"] == 3


def test_an_empty_file_contributes_nothing() -> None:
    merged, used = merge_values_files(["empty.yaml", "prod.yaml"], read)

    assert used == ["empty.yaml", "prod.yaml"]
    assert merged == yaml.safe_load(FILES["prod.yaml"])


def test_a_file_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(ValuesFilesError, match=r"'list\.yaml' failed: the top level is a list"):
        merge_values_files(["list.yaml"], read)


def test_a_file_that_is_not_yaml_names_the_line() -> None:
    with pytest.raises(ValuesFilesError, match=r"'bad\.yaml' failed: .* at line 2, column 5"):
        parse_values(b"a: 1\nb: c: d\n", name="bad.yaml")


def test_timestamps_in_values_stay_text() -> None:
    assert parse_values(b"when: 2024-01-02\n", name="v.yaml") == {"when": "2024-01-02"}


@pytest.mark.parametrize(
    ("values_file", "values_files", "expected"),
    [
        (None, None, []),
        (None, ["values.yaml"], []),
        (None, ["./values.yaml"], []),
        (None, ["values.yaml", "prod.yaml"], ["values.yaml", "prod.yaml"]),
        ("old.yaml", ["prod.yaml"], ["old.yaml", "prod.yaml"]),
        ("values.yaml", None, []),
    ],
)
def test_only_the_charts_own_values_file_means_no_merge(
    values_file: str | None, values_files: list[str] | None, expected: list[str]
) -> None:
    assert effective_values_files(values_file, values_files) == expected


def test_dumped_values_read_back_the_same_with_sorted_keys() -> None:
    values = {"z": 1, "a": {"c": [1, 2], "b": "x"}}

    text = dump_values(values)

    assert yaml.safe_load(text) == values
    assert text.index("a:") < text.index("z:")

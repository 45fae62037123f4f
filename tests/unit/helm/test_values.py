"""Values composed from valuesFrom and values in Flux's order, and their digest."""

from __future__ import annotations

import pytest

from tide.helm.values import ValuesDocument, ValuesError, compose, config_digest

pytestmark = pytest.mark.unit


def doc(text: str, path: str | None = None) -> ValuesDocument:
    return ValuesDocument("key 'values.yaml' in Secret 'apps/v'", text, path)


def test_later_documents_win_and_mappings_merge_at_every_depth() -> None:
    merged = compose(
        [doc("a: {b: 1, c: [1, 2]}\nkeep: x\n"), doc("a: {c: [3]}\n")], {"a": {"d": True}}
    )
    assert merged == {"a": {"b": 1, "c": [3], "d": True}, "keep": "x"}


def test_inline_values_are_merged_last() -> None:
    assert compose([doc("replicas: 1\n")], {"replicas": 3}) == {"replicas": 3}


def test_a_target_path_sets_one_value_typed_as_helm_set_does() -> None:
    merged = compose([doc("image: {tag: v1, name: app}\n"), doc("2\n", "image.tag")], None)
    assert merged == {"image": {"tag": 2, "name": "app"}}


def test_a_quoted_value_at_a_target_path_stays_a_string() -> None:
    assert compose([doc('"2"', "image.tag")], None) == {"image": {"tag": "2"}}


def test_a_document_that_is_not_a_mapping_names_where_it_came_from() -> None:
    with pytest.raises(ValuesError, match=r"key 'values.yaml' in Secret 'apps/v': not a YAML"):
        compose([doc("- a\n- b\n")], None)


def test_invalid_yaml_is_described_by_position_without_quoting_the_content() -> None:
    with pytest.raises(ValuesError) as error:
        compose([doc("password: s3cret\n  broken: [\n")], None)
    assert "line" in str(error.value)
    assert "s3cret" not in str(error.value)


def test_an_empty_document_adds_nothing() -> None:
    assert compose([doc("")], {"a": 1}) == {"a": 1}


def test_the_digest_ignores_key_order_and_sees_every_change() -> None:
    assert config_digest({"a": 1, "b": {"c": 2}}) == config_digest({"b": {"c": 2}, "a": 1})
    assert config_digest({"a": 1}) != config_digest({"a": 2})
    assert config_digest({}).startswith("sha256:")

"""resourceFilter: CEL over the object (``res``) and the webhook body (``req``)."""

from __future__ import annotations

import pytest

from tide.notification.resource_filter import FilterError, ResourceFilter

pytestmark = pytest.mark.unit

PODINFO = {"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
           "metadata": {"name": "podinfo", "labels": {"team": "a"}}, "spec": {"x": 1}}  # fmt: skip


def test_the_expression_sees_the_object_and_the_body() -> None:
    accepts = ResourceFilter("req.tag.contains(res.metadata.name)").accepts

    assert accepts(PODINFO, {"tag": "podinfo:6.7.0"})
    assert not accepts(PODINFO, {"tag": "other:1.0"})


def test_only_apiversion_kind_and_metadata_are_visible() -> None:
    with pytest.raises(FilterError):
        ResourceFilter("res.spec.x == 1").accepts(PODINFO, {})


def test_a_body_that_is_not_a_json_object_is_an_empty_map() -> None:
    assert ResourceFilter("!has(req.tag)").accepts(PODINFO, None)


def test_a_syntax_error_is_refused_at_compile_time_with_the_parsers_words() -> None:
    with pytest.raises(FilterError, match=r"resourceFilter 'res\.metadata\.' does not compile"):
        ResourceFilter("res.metadata.")


def test_a_result_that_is_not_a_bool_is_an_error() -> None:
    with pytest.raises(FilterError, match="returned string, not bool"):
        ResourceFilter("res.metadata.name").accepts(PODINFO, {})


def test_a_missing_key_is_an_error_naming_it() -> None:
    with pytest.raises(FilterError, match="tag"):
        ResourceFilter("req.tag == 'x'").accepts(PODINFO, {})

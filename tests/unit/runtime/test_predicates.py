"""changed(): which watch events are worth a reconcile."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.api.keys import REQUESTED_AT
from tide.runtime.predicates import changed

pytestmark = pytest.mark.unit


def _obj(**metadata: Any) -> dict[str, Any]:
    meta = {"name": "podinfo", "namespace": "default", "generation": 1, "resourceVersion": "10"}
    meta.update(metadata)
    return {"metadata": meta, "spec": {"interval": "1m"}, "status": {}}


def test_newly_seen_object_needs_a_reconcile() -> None:
    assert changed(None, _obj()) is True


def test_status_only_update_does_not_need_a_reconcile() -> None:
    old = _obj()
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = "11"
    new["status"] = {"observedGeneration": 1, "conditions": [{"type": "Ready"}]}

    assert changed(old, new) is False


def test_label_or_other_annotation_change_does_not_need_a_reconcile() -> None:
    old = _obj(annotations={REQUESTED_AT: "t1"})
    new = _obj(labels={"team": "a"}, annotations={REQUESTED_AT: "t1", "note": "x"})

    assert changed(old, new) is False


def test_new_generation_needs_a_reconcile() -> None:
    assert changed(_obj(generation=1), _obj(generation=2)) is True


def test_first_requested_at_annotation_needs_a_reconcile() -> None:
    assert changed(_obj(), _obj(annotations={REQUESTED_AT: "2024-01-01T00:00:00Z"})) is True


def test_new_requested_at_value_needs_a_reconcile() -> None:
    old = _obj(annotations={REQUESTED_AT: "t1"})
    new = _obj(annotations={REQUESTED_AT: "t2"})

    assert changed(old, new) is True


def test_deletion_timestamp_appearing_needs_a_reconcile() -> None:
    new = _obj(deletionTimestamp="2024-01-01T00:00:00Z")

    assert changed(_obj(), new) is True


def test_update_of_an_object_already_being_deleted_does_not_need_another_reconcile() -> None:
    old = _obj(deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["a", "b"])
    new = _obj(deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["b"])

    assert changed(old, new) is False

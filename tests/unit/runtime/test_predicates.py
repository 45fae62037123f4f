"""changed(): which watch events are worth a reconcile."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.api.keys import REQUESTED_AT
from tide.runtime.predicates import artifact_changed, changed

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


def _source(revision: str | None = None, digest: str | None = None) -> dict[str, Any]:
    source = _obj()
    if revision is not None:
        source["status"]["artifact"] = {"revision": revision, "digest": digest}
    return source


def test_consumers_wake_when_a_source_publishes_its_first_artifact() -> None:
    assert artifact_changed(_source(), _source("main@sha1:a", "sha256:1"))
    assert artifact_changed(None, _source("main@sha1:a", "sha256:1"))


def test_consumers_wake_on_a_new_revision_or_a_new_digest_of_the_same_revision() -> None:
    old = _source("main@sha1:a", "sha256:1")
    assert artifact_changed(old, _source("main@sha1:b", "sha256:2"))
    assert artifact_changed(old, _source("main@sha1:a", "sha256:2"))


def test_consumers_wake_when_the_artifact_goes_with_its_source() -> None:
    assert artifact_changed(_source("main@sha1:a", "sha256:1"), None)


def test_status_writes_that_keep_the_artifact_wake_no_consumer() -> None:
    old = _source("main@sha1:a", "sha256:1")
    new = copy.deepcopy(old)
    new["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert not artifact_changed(old, new)
    assert not artifact_changed(None, _source())

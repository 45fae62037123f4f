"""``driftDetection.ignore``: which objects a rule selects, and what an ignored field becomes."""

from __future__ import annotations

from typing import Any

import pytest

from tide.api.helm import IgnoreRule
from tide.helm.ignore import IgnoreError, apply_ignored, ignored_paths

pytestmark = pytest.mark.unit

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web-1",
        "namespace": "apps",
        "labels": {"tier": "front", "team": "blue"},
        "annotations": {"a/b": "c"},
    },
    "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": "x:1"}]}}},
}


def rule(target: dict[str, Any] | None = None, paths: tuple[str, ...] = ("/x",)) -> IgnoreRule:
    return IgnoreRule.model_validate({"paths": list(paths), "target": target})


@pytest.mark.parametrize(
    ("target", "selected"),
    [
        (None, True),
        ({"kind": "Deployment"}, True),
        ({"kind": "Service"}, False),
        ({"group": "apps", "version": "v1"}, True),
        ({"group": ""}, False),
        ({"name": "web-[0-9]"}, True),
        ({"name": "web"}, False),  # the whole name must match
        ({"namespace": "other"}, False),
        ({"labelSelector": "tier=front,team in (blue, green)"}, True),
        ({"labelSelector": "tier!=front"}, False),
        ({"labelSelector": "team notin (red),!missing"}, True),
        ({"labelSelector": "missing"}, False),
        ({"annotationSelector": "a/b==c"}, True),
    ],
)
def test_a_target_selects_by_every_criterion_it_sets(
    target: dict[str, Any] | None, selected: bool
) -> None:
    assert bool(ignored_paths([rule(target)], DEPLOYMENT)) is selected


def test_an_ignored_field_takes_the_clusters_value_or_goes() -> None:
    live = {
        "spec": {"replicas": 4, "template": {"spec": {"containers": [{"image": "x:2"}]}}},
        "metadata": {"labels": {}},
    }
    paths = [
        "/spec/replicas",
        "/spec/template/spec/containers/0/image",
        "/metadata/labels/tier",  # not in the cluster: dropped
        "/metadata/labels/absent",  # not in the manifest: nothing to do
        "/metadata/annotations/a~1b",
    ]
    result = apply_ignored(DEPLOYMENT, live, paths)
    assert result["spec"]["replicas"] == 4
    assert result["spec"]["template"]["spec"]["containers"][0]["image"] == "x:2"
    assert result["metadata"]["labels"] == {"team": "blue"}
    assert result["metadata"]["annotations"] == {}
    assert DEPLOYMENT["spec"]["replicas"] == 1  # the manifest itself is left alone


def test_a_deleted_object_is_not_changed_and_a_bad_pointer_is_named() -> None:
    assert apply_ignored(DEPLOYMENT, None, ["/spec/replicas"]) is DEPLOYMENT
    with pytest.raises(IgnoreError, match="'spec/replicas' must start with '/'"):
        apply_ignored(DEPLOYMENT, {}, ["spec/replicas"])

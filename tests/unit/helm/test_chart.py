"""The HelmChart generated for ``spec.chart``: Flux's shape, and written only when it differs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.api.helm import HelmRelease
from tide.helm import chart

pytestmark = pytest.mark.unit


def release(**template: Any) -> HelmRelease:
    spec = {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}
    return HelmRelease.model_validate({
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"interval": "5m", "chart": {"spec": {**spec, **template}}},
    })  # fmt: skip


def test_the_template_becomes_a_helmchart_named_after_the_release() -> None:
    desired = chart.desired_chart(release(version="6.x", valuesFiles=["prod.yaml"]))
    assert desired["metadata"]["name"] == "apps-web"
    assert desired["metadata"]["namespace"] == "apps"
    assert desired["metadata"]["labels"] == {
        "helm.toolkit.fluxcd.io/name": "web",
        "helm.toolkit.fluxcd.io/namespace": "apps",
    }
    assert desired["spec"] == {
        "chart": "podinfo",
        "version": "6.x",
        "sourceRef": {"kind": "HelmRepository", "name": "charts"},
        "interval": "5m",
        "reconcileStrategy": "ChartVersion",
        "valuesFiles": ["prod.yaml"],
    }


def test_a_source_in_another_namespace_puts_the_helmchart_there() -> None:
    source = {"kind": "HelmRepository", "name": "charts", "namespace": "flux-system"}
    desired = chart.desired_chart(release(sourceRef=source))
    assert desired["metadata"]["namespace"] == "flux-system"
    assert "namespace" not in desired["spec"]["sourceRef"]


def test_a_live_helmchart_equal_to_the_template_needs_no_write() -> None:
    desired = chart.desired_chart(release())
    live = copy.deepcopy(desired)
    live["metadata"]["labels"]["added-by-someone"] = "x"
    assert chart._matches(live, desired)


def test_a_changed_or_removed_field_is_written_again() -> None:
    desired = chart.desired_chart(release())
    changed = copy.deepcopy(desired)
    changed["spec"]["version"] = "1.x"
    assert not chart._matches(changed, desired)
    extra = copy.deepcopy(desired)
    extra["spec"]["valuesFiles"] = ["old.yaml"]  # dropped from the template since
    assert not chart._matches(extra, desired)

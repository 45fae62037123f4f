"""Release and HelmChart names as Flux derives them."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tide.api.helm import HelmRelease
from tide.helm import naming

pytestmark = pytest.mark.unit


def release(name: str = "podinfo", **spec: Any) -> HelmRelease:
    return HelmRelease.model_validate({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": {"interval": "5m", "chartRef": {"kind": "HelmChart", "name": "c"}, **spec},
    })  # fmt: skip


def test_release_name_defaults_to_the_object_name() -> None:
    assert naming.release_name(release()) == "podinfo"


def test_release_name_is_prefixed_with_the_target_namespace() -> None:
    assert naming.release_name(release(targetNamespace="web")) == "web-podinfo"


def test_release_name_from_the_spec_wins() -> None:
    assert naming.release_name(release(targetNamespace="web", releaseName="mine")) == "mine"


def test_a_long_release_name_is_shortened_to_53_characters_with_a_hash() -> None:
    long = "a-very-long-target-namespace-name"
    name = naming.release_name(release("and-an-equally-long-release-name", targetNamespace=long))
    full = f"{long}-and-an-equally-long-release-name"
    assert len(name) == 53
    assert name == f"{full[:40]}-{hashlib.sha256(full.encode()).hexdigest()[:12]}"


def test_a_name_of_53_characters_is_kept() -> None:
    assert naming.shorten("x" * 53) == "x" * 53


def test_names_sharing_a_long_prefix_stay_distinct() -> None:
    assert naming.shorten("p" * 60 + "1") != naming.shorten("p" * 60 + "2")


def test_namespaces_default_to_the_helmreleases_own() -> None:
    assert naming.target_namespace(release()) == "apps"
    assert naming.storage_namespace(release(targetNamespace="web")) == "web"
    assert naming.storage_namespace(release(targetNamespace="web", storageNamespace="x")) == "x"


def test_the_generated_helmchart_is_named_namespace_dash_name() -> None:
    assert naming.chart_name(release()) == "apps-podinfo"

"""Metadata-only requests: the paths and selectors they send, and how requests are counted."""

from __future__ import annotations

import pytest

from tide.api.selectors import parse_selector
from tide.kube import resources
from tide.kube.client import _request_key
from tide.kube.metadata import collection_path, selector_text
from tide.kube.resources import ResourceType

pytestmark = pytest.mark.unit

DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")


def test_collection_paths_follow_the_api_groups_and_scope() -> None:
    assert collection_path(resources.CONFIG_MAP) == "/api/v1/configmaps"
    assert collection_path(resources.CONFIG_MAP, "apps") == "/api/v1/namespaces/apps/configmaps"
    assert collection_path(DEPLOYMENT) == "/apis/apps/v1/deployments"
    assert collection_path(resources.NAMESPACE, "ignored") == "/api/v1/namespaces"


def test_selectors_are_written_as_the_api_server_reads_them() -> None:
    selector = parse_selector("tier in (web,api),!legacy,kustomize.toolkit.fluxcd.io/name")
    assert selector_text({"app": "x"}, selector) == (
        "app=x,tier in (web,api),!legacy,kustomize.toolkit.fluxcd.io/name"
    )
    assert selector_text(None, ()) == ""


@pytest.mark.parametrize(
    ("method", "path", "params", "dry_run", "key"),
    [
        ("GET", "/api/v1/namespaces/apps/configmaps/web", {}, False, ("get", "configmaps", "apps")),
        ("GET", "/api/v1/namespaces/apps/configmaps", {}, False, ("list", "configmaps", "apps")),
        (
            "GET",
            "/apis/apps/v1/deployments",
            {"watch": "true"},
            False,
            ("watch", "deployments", ""),
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/a/deployments/w",
            {},
            True,
            ("dry-run", "deployments", "a"),
        ),
        ("GET", "/api/v1/namespaces/apps", {}, False, ("get", "namespaces", "")),
        ("GET", "/version", {}, False, ("get", "", "")),
    ],
)
def test_requests_are_counted_by_verb_resource_and_namespace(
    method: str, path: str, params: dict[str, str], dry_run: bool, key: tuple[str, str, str]
) -> None:
    assert _request_key(method, path, params, dry_run=dry_run) == key

"""The RESTMapper finds kinds the API server serves, including ones added a moment ago."""

from __future__ import annotations

import pytest

from tests.integration.helpers import eventually
from tests.integration.kube.test_ssa import widget_crd
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.resources import ResourceType
from tide.kube.ssa import ResourceManager, readiness

pytestmark = pytest.mark.integration


async def test_built_in_kinds_resolve_with_plural_and_scope(kube: KubeClient) -> None:
    mapper = RESTMapper(kube)
    assert await mapper.resource_type("apps/v1", "Deployment") == ResourceType(
        "apps", "v1", "Deployment", "deployments", namespaced=True
    )
    assert await mapper.resource_type("v1", "Namespace") == resources.NAMESPACE


async def test_a_crd_created_after_the_first_lookup_is_found(
    kube: KubeClient, namespace: str
) -> None:
    mapper = RESTMapper(kube)
    group = f"{namespace}.tide.test"
    with pytest.raises(UnknownKind):
        await mapper.resource_type(f"{group}/v1", "Widget")
    crd = widget_crd(group)
    manager = ResourceManager(kube, mapper, "tide-tests", {})
    try:
        await manager.apply_all([crd])

        async def established() -> bool:
            live = await kube.get(resources.CRD, crd["metadata"]["name"])
            return readiness(live).ready

        await eventually(established, what="the CRD to be established")
        found = await mapper.resource_type(f"{group}/v1", "Widget")
        assert found == ResourceType(group, "v1", "Widget", "widgets", namespaced=True)
    finally:
        await kube.delete(resources.CRD, crd["metadata"]["name"])


async def test_an_unknown_kind_is_refused_naming_kind_and_version(kube: KubeClient) -> None:
    mapper = RESTMapper(kube)
    with pytest.raises(UnknownKind, match=r"'Gizmo' in version 'apps/v1'"):
        await mapper.resource_type("apps/v1", "Gizmo")
    with pytest.raises(UnknownKind, match=r"'Gizmo' in version 'nowhere.example/v9'"):
        await mapper.resource_type("nowhere.example/v9", "Gizmo")

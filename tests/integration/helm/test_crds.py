"""``install.crds`` / ``upgrade.crds``: Skip, Create, CreateReplace on a chart whose CRDs change.

Version 1.0.0 of each chart ships CRD ``widgets`` with a ``size`` field; 2.0.0 adds ``color``
to it and a second CRD, ``gadgets``. CRDs are cluster-wide, so each release has its own group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helm.common import (
    chart_spec,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helm.test_bad_input import warning
from tests.integration.helpers import condition
from tide import yamlio
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.testing import ChartRepository

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controllers", "cleanup")]

POLICIES = ("Skip", "Create", "CreateReplace")


def crd(kind: str, group: str, fields: tuple[str, ...]) -> str:
    """A namespaced CRD ``<kind>s.<group>`` whose ``spec`` has string ``fields``."""
    plural = f"{kind.lower()}s"
    properties = ", ".join(f"{field}: {{type: string}}" for field in fields)
    return (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata:\n  name: {plural}.{group}\nspec:\n  group: {group}\n"
        f"  names: {{kind: {kind}, plural: {plural}, singular: {kind.lower()}}}\n"
        "  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n"
        "      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n"
        "          properties:\n            spec:\n              type: object\n"
        f"              properties: {{{properties}}}\n"
    )


def group_of(policy: str, namespace: str) -> str:
    return f"{policy.lower()}.{namespace}.tide.test"


def operator_chart(group: str, version: str) -> dict[str, str]:
    """``crds/`` for ``version`` (1.0.0 or 2.0.0) of the chart, and a ConfigMap template."""
    files = {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"}
    if version == "1.0.0":
        files["../crds/widgets.yaml"] = crd("Widget", group, ("size",))
    else:
        files["../crds/widgets.yaml"] = crd("Widget", group, ("size", "color"))
        files["../crds/gadgets.yaml"] = crd("Gadget", group, ("size",))
    return files


def spec_fields(live: dict[str, Any]) -> set[str]:
    """The ``spec`` fields the live CRD's schema declares."""
    schema = live["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return set(schema["properties"]["spec"]["properties"])


@pytest.fixture(scope="module")
def charts() -> Iterator[ChartRepository]:
    with ChartRepository() as repo:
        yield repo


@pytest_asyncio.fixture(loop_scope="session")
async def cleanup(kube: KubeClient, namespace: str) -> AsyncIterator[None]:
    """Delete the test's CRDs afterwards: they outlive the namespace."""
    yield
    for policy in (*POLICIES, "install"):
        for plural in ("widgets", "gadgets"):
            await kube.delete(resources.CRD, f"{plural}.{group_of(policy, namespace)}")


async def test_upgrade_crds_policies(
    kube: KubeClient, namespace: str, charts: ChartRepository
) -> None:
    for policy in POLICIES:
        group = group_of(policy, namespace)
        for version in ("1.0.0", "2.0.0"):
            charts.add_chart(
                f"op-{policy.lower()}", version, templates=operator_chart(group, version)
            )
    await given_repository(kube, namespace, charts)
    for policy in POLICIES:
        await create_release(kube, namespace, policy.lower(), {
            "chart": chart_spec("1.0.0", chart=f"op-{policy.lower()}"),
            "upgrade": {"crds": policy},
        })  # fmt: skip
    for policy in POLICIES:
        await wait_for(kube, namespace, policy.lower(), status="True", reason="InstallSucceeded")
        widgets = await kube.get(resources.CRD, f"widgets.{group_of(policy, namespace)}")
        assert spec_fields(widgets) == {"size"}  # install creates them (install.crds: Create)

    for policy in POLICIES:
        bump = {"spec": {"chart": chart_spec("2.0.0", chart=f"op-{policy.lower()}")}}
        await kube.patch_merge(HELM_RELEASE, policy.lower(), bump, namespace=namespace)
    for policy in POLICIES:
        await wait_for(kube, namespace, policy.lower(), status="True", reason="UpgradeSucceeded")

    def crds_of(policy: str) -> tuple[str, str]:
        group = group_of(policy, namespace)
        return f"widgets.{group}", f"gadgets.{group}"

    # Skip (the upgrade default): Helm leaves crds/ alone; nothing new, nothing changed.
    widgets, gadgets = crds_of("Skip")
    assert spec_fields(await kube.get(resources.CRD, widgets)) == {"size"}
    assert await kube.get_or_none(resources.CRD, gadgets) is None
    # Create: the new CRD is created, the existing one is left as it was.
    widgets, gadgets = crds_of("Create")
    assert spec_fields(await kube.get(resources.CRD, widgets)) == {"size"}
    assert await kube.get_or_none(resources.CRD, gadgets) is not None
    # CreateReplace: created and replaced — the new schema field is served.
    widgets, gadgets = crds_of("CreateReplace")
    assert spec_fields(await kube.get(resources.CRD, widgets)) == {"size", "color"}
    assert await kube.get_or_none(resources.CRD, gadgets) is not None


async def test_install_crds_create_replace_replaces_an_existing_crd(
    kube: KubeClient, namespace: str, charts: ChartRepository
) -> None:
    group = group_of("install", namespace)
    charts.add_chart("op-install", "2.0.0", templates=operator_chart(group, "2.0.0"))
    await given_repository(kube, namespace, charts)
    # An older copy of the CRD is already in the cluster (say, installed by hand).
    await kube.create(resources.CRD, yamlio.load(crd("Widget", group, ("size",))))
    await create_release(kube, namespace, "fresh", {
        "chart": chart_spec("2.0.0", chart="op-install"), "install": {"crds": "CreateReplace"},
    })  # fmt: skip
    await wait_for(kube, namespace, "fresh", status="True", reason="InstallSucceeded")
    assert spec_fields(await kube.get(resources.CRD, f"widgets.{group}")) == {"size", "color"}
    assert await kube.get_or_none(resources.CRD, f"gadgets.{group}") is not None


async def test_a_crd_the_api_server_refuses_fails_the_upgrade_naming_it(
    kube: KubeClient, namespace: str, charts: ChartRepository
) -> None:
    group = group_of("Create", namespace)
    bad = operator_chart(group, "2.0.0")
    # metadata.name must be <plural>.<group>: the API server refuses this one.
    bad["../crds/gadgets.yaml"] = bad["../crds/gadgets.yaml"].replace(
        f"name: gadgets.{group}", f"name: gizmos.{group}"
    )
    charts.add_chart("op-bad", "1.0.0", templates=operator_chart(group, "1.0.0"))
    charts.add_chart("op-bad", "2.0.0", templates=bad)
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "bad", {
        "chart": chart_spec("1.0.0", chart="op-bad"), "upgrade": {"crds": "Create"},
    })  # fmt: skip
    await wait_for(kube, namespace, "bad", status="True", reason="InstallSucceeded")
    bump = {"spec": {"chart": chart_spec("2.0.0", chart="op-bad")}}
    await kube.patch_merge(HELM_RELEASE, "bad", bump, namespace=namespace)

    obj = await wait_for(kube, namespace, "bad", status="False", reason="UpgradeFailed")
    message = condition(obj, "Ready")["message"]
    assert message.startswith(
        f"Helm upgrade failed for release {namespace}/bad with chart op-bad@2.0.0: applying the "
        f"chart's CRDs (upgrade.crds: Create) failed: cannot create CustomResourceDefinition "
        f"'gizmos.{group}': "
    ), message
    await warning(kube, namespace, "bad", "UpgradeFailed")
    # Helm never ran: the release is still revision 1, deployed, with the chart it had.
    assert [r["metadata"]["labels"]["version"] for r in await release_secrets(
        kube, namespace, "bad")] == ["1"]  # fmt: skip

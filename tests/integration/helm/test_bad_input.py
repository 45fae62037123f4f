"""Bad input ends in a precise Ready condition naming what is wrong, and a Warning event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT_TEMPLATE,
    chart_spec,
    create_release,
    given_repository,
    wait_for,
)
from tests.integration.helpers import condition, events_for, eventually
from tests.integration.source.conftest import create_secret
from tide.helm.setup import HELM_RELEASE as HELM_RELEASE_V2
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

BROKEN = DEPLOYMENT_TEMPLATE.replace("{{ .Values.replicas }}", "{{ .Values.scale.replicas }}")
"""A template that fails to render: ``.Values.scale`` is not set."""


@pytest.fixture
def broken_repo() -> Iterator[ChartRepository]:
    with ChartRepository() as repo:
        repo.add_chart("broken", "1.0.0", values={}, templates={"deployment.yaml": BROKEN})
        yield repo


async def warning(kube: KubeClient, namespace: str, name: str, reason: str) -> dict:
    async def found() -> dict | None:
        events = await events_for(kube, namespace, name)
        return next((e for e in events if e["type"] == "Warning" and e["reason"] == reason), None)

    return await eventually(found, what=f"a Warning event {reason}")


async def test_no_chart_version_in_range_is_named(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"chart": chart_spec("9.x")})

    async def named() -> str | None:  # once the HelmChart has given its verdict
        obj = await wait_for(kube, namespace, "podinfo", status="False", reason="ArtifactFailed")
        message = condition(obj, "Ready")["message"]
        return message if "9.x" in message else None

    message = await eventually(named, what="the version range in the Ready message")
    event = await warning(kube, namespace, "podinfo", "ArtifactFailed")
    assert "9.x" in event["message"]
    assert message.startswith(f"HelmChart '{namespace}/{namespace}-podinfo' is not ready: ")
    assert "9.x" in message and "podinfo" in message


async def test_a_template_error_names_the_template_file(
    kube: KubeClient, namespace: str, broken_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, broken_repo)
    await create_release(kube, namespace, "app", {"chart": chart_spec("1.0.0", chart="broken")})

    async def stalled() -> dict | None:
        obj = await kube.get(HELM_RELEASE_V2, "app", namespace=namespace)
        found = condition(obj, "Stalled")
        return obj if found and found["reason"] == "RetriesExceeded" else None

    obj = await eventually(stalled, timeout=60, what="the release to stall")
    released = condition(obj, "Released")
    assert (released["status"], released["reason"]) == ("False", "InstallFailed")
    assert "broken/templates/deployment.yaml" in released["message"]
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    assert "broken/templates/deployment.yaml" in ready["message"]
    assert obj["status"]["installFailures"] == 1
    event = await warning(kube, namespace, "app", "InstallFailed")
    assert "broken/templates/deployment.yaml" in event["message"]


async def test_a_missing_values_secret_is_named_and_its_arrival_heals(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(
        kube,
        namespace,
        "podinfo",
        {"valuesFrom": [{"kind": "Secret", "name": "podinfo-values"}]},
    )
    obj = await wait_for(kube, namespace, "podinfo", status="False", reason="ValuesError")
    assert condition(obj, "Ready")["message"] == (
        f"could not find Secret '{namespace}/podinfo-values' (spec.valuesFrom)"
    )
    await warning(kube, namespace, "podinfo", "ValuesError")

    await create_secret(kube, namespace, "podinfo-values", {"values.yaml": "replicas: 2\n"})
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert "replicas" not in str(obj["status"])  # values never reach the status

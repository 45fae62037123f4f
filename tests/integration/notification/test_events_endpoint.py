"""Events posted by Flux's controllers: rate limit, noise control, metadata, templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.helpers import eventually
from tests.integration.notification.common import (
    create_alert,
    create_provider,
    flux_event,
    post_event,
    providers_ready,
)
from tests.integration.notification.conftest import FAST_RETRY
from tide.kube.client import KubeClient
from tide.notification import (
    MESSAGE_TEMPLATE_ANNOTATION,
    NOISE_CONTROL_ANNOTATION,
    DispatchOptions,
)

pytestmark = pytest.mark.integration


async def test_an_identical_event_within_the_rate_limit_interval_is_sent_once(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(DispatchOptions(rate_limit_interval=2.0, retry=FAST_RETRY))
    sink = await sinks()
    await create_provider(kube, namespace, "hook", address=sink.url)
    await create_alert(kube, namespace, "flux", provider="hook")  # noise control off by default
    await providers_ready(dispatcher, kube, namespace)

    await post_event(dispatcher, flux_event(namespace))
    await post_event(dispatcher, flux_event(namespace))
    await post_event(dispatcher, flux_event(namespace, revision="main@sha1:77aa01"))
    await dispatcher.settle()

    assert [e["metadata"]["revision"] for e in sink.received] == [
        "main@sha1:0f3ac1", "main@sha1:77aa01"
    ]  # fmt: skip
    assert sink.received[0]["involvedObject"]["name"] == "apps"
    assert sink.received[0]["message"].startswith("health check failed")

    async def resent() -> bool:  # the same event again, until the window has passed
        await post_event(dispatcher, flux_event(namespace))
        await dispatcher.settle()
        return len(sink.received) == 3

    await eventually(resent, timeout=10, interval=0.2, what="the window to pass")


async def test_an_unchanged_failure_is_sent_once_summarised_then_its_recovery_announced(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(
        DispatchOptions(rate_limit_interval=0, summary_interval=1.0, retry=FAST_RETRY)
    )
    sink = await sinks()
    await create_provider(kube, namespace, "hook", address=sink.url)
    await create_alert(kube, namespace, "flux", provider="hook",
                       annotations={NOISE_CONTROL_ANNOTATION: "enabled"})  # fmt: skip
    await providers_ready(dispatcher, kube, namespace)

    for _ in range(4):
        await post_event(dispatcher, flux_event(namespace))
    await dispatcher.settle()
    assert len(sink.received) == 1

    async def summarised() -> bool:
        await post_event(dispatcher, flux_event(namespace))
        await dispatcher.settle()
        return len(sink.received) == 2

    await eventually(summarised, timeout=10, interval=0.1, what="a summary of the failure")
    summary = sink.received[1]["message"]
    assert summary.startswith("Still failing for 1s, ")
    assert summary.endswith(" attempts: health check failed after 5m0s: timeout waiting for "
                            "Deployment/web")  # fmt: skip

    healthy = flux_event(namespace, severity="info", reason="ReconciliationSucceeded",
                         message="Applied revision: main@sha1:0f3ac1")  # fmt: skip
    await post_event(dispatcher, healthy)
    await post_event(dispatcher, healthy)
    await dispatcher.settle()

    assert [e["message"] for e in sink.received[2:]] == [
        "Ready again after 1s: Applied revision: main@sha1:0f3ac1",
        "Applied revision: main@sha1:0f3ac1",
    ]


async def test_alert_metadata_cluster_name_and_message_template_shape_what_is_sent(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(DispatchOptions(cluster_name="eu-1", retry=FAST_RETRY))
    sink = await sinks()
    await create_provider(kube, namespace, "hook", address=sink.url)
    template = (
        "{{ .InvolvedObject.Kind }}/{{ .InvolvedObject.Name }} on {{ .Metadata.cluster }}: "
        "{{ .Reason }} at {{ .Metadata.revision | trunc 14 }}"
    )
    await create_alert(
        kube, namespace, "flux", provider="hook",
        annotations={MESSAGE_TEMPLATE_ANNOTATION: template},
        eventMetadata={"env": "prod", "revision": "not-mine"}, summary="apps down",
    )  # fmt: skip
    await providers_ready(dispatcher, kube, namespace)

    await post_event(dispatcher, flux_event(namespace))
    await dispatcher.settle()

    [sent] = sink.received
    assert sent["message"] == "Kustomization/apps on eu-1: HealthCheckFailed at main@sha1:0f3a"
    assert sent["metadata"] == {
        "revision": "main@sha1:0f3ac1", "env": "prod", "summary": "apps down", "cluster": "eu-1",
    }  # fmt: skip


async def test_an_alert_sees_only_its_sources_severity_and_messages(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(DispatchOptions(retry=FAST_RETRY))
    sink = await sinks()
    await create_provider(kube, namespace, "hook", address=sink.url)
    await create_alert(
        kube, namespace, "flux", provider="hook", eventSeverity="error",
        eventSources=[{"kind": "Kustomization", "name": "apps"}],
        exclusionList=["timeout waiting for Deployment/batch"],
    )  # fmt: skip
    await providers_ready(dispatcher, kube, namespace)

    await post_event(dispatcher, flux_event(namespace, name="infra"))
    await post_event(dispatcher, flux_event(namespace, severity="info", reason="Progressing"))
    await post_event(dispatcher, flux_event("elsewhere"))
    await post_event(
        dispatcher, flux_event(namespace, message="timeout waiting for Deployment/batch")
    )
    await post_event(dispatcher, flux_event(namespace))
    await dispatcher.settle()

    assert [(e["involvedObject"]["name"], e["reason"]) for e in sink.received] == [
        ("apps", "HealthCheckFailed")
    ]

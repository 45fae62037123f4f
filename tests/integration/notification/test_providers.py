"""Providers: a dead endpoint delays no other; a bad Provider is named in a Warning event."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.helpers import eventually
from tests.integration.notification.common import (
    create_alert,
    create_provider,
    create_secret,
    flux_event,
    post_event,
    providers_ready,
    wait_for_warning,
    warnings_on,
)
from tests.integration.notification.conftest import FAST_RETRY
from tide.kube.client import KubeClient
from tide.notification import DispatchOptions

pytestmark = pytest.mark.integration


async def test_a_dead_endpoint_does_not_delay_a_live_one(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(DispatchOptions(retry=FAST_RETRY))
    dead, live = await sinks(hang=True), await sinks()
    await create_provider(kube, namespace, "dead", address=dead.url, timeout="1m")
    await create_provider(kube, namespace, "live", address=live.url)
    await create_alert(kube, namespace, "to-dead", provider="dead")
    await create_alert(kube, namespace, "to-live", provider="live")
    await providers_ready(dispatcher, kube, namespace)

    started = time.monotonic()
    for index in range(3):
        await post_event(dispatcher, flux_event(namespace, name=f"app-{index}"))

    async def all_arrived() -> bool:
        return len(live.received) == 3

    await eventually(all_arrived, timeout=10, what="the live endpoint to get every event")
    assert time.monotonic() - started < 10
    assert dead.arrived == 1  # still waiting on its first request, the others queued behind it


async def test_a_missing_secret_is_a_precise_warning_and_other_providers_go_on(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(DispatchOptions(retry=FAST_RETRY))
    sink, healthy = await sinks(), await sinks()
    await create_provider(kube, namespace, "locked", secretRef={"name": "webhook"})
    await create_provider(kube, namespace, "open", address=healthy.url)
    await create_alert(kube, namespace, "via-locked", provider="locked")
    await create_alert(kube, namespace, "via-open", provider="open")

    warning = await wait_for_warning(kube, namespace, "Provider", "locked", reason="SecretNotFound")
    assert warning["message"] == (
        f"Provider '{namespace}/locked': spec.secretRef: Secret '{namespace}/webhook' not found"
    )
    assert warning["source"]["component"] == "notification-controller"

    await providers_ready(dispatcher, kube, namespace)
    await post_event(dispatcher, flux_event(namespace))
    await dispatcher.settle()
    assert len(healthy.received) == 1
    assert sink.received == []

    await create_secret(kube, namespace, "webhook", address=sink.url)  # the Provider is rebuilt

    async def delivered() -> bool:
        await post_event(dispatcher, flux_event(namespace, revision=f"main@sha1:{time.time()}"))
        await dispatcher.settle()
        return bool(sink.received)

    await eventually(delivered, what="the Provider to work once its Secret exists")


async def test_a_failed_delivery_and_a_missing_provider_are_warnings_on_the_alert(
    kube: KubeClient, namespace: str, controllers: Callable[..., Any], sinks: Callable[..., Any]
) -> None:
    dispatcher = await controllers(DispatchOptions(retry=FAST_RETRY))
    closed = await sinks()
    await closed.stop()  # nothing listens there any more: connection refused
    await create_provider(kube, namespace, "gone", address=closed.url)
    await create_alert(kube, namespace, "ops", provider="gone")
    await create_alert(kube, namespace, "nowhere", provider="absent")
    await providers_ready(dispatcher, kube, namespace)

    await post_event(dispatcher, flux_event(namespace))
    await dispatcher.settle()

    failed = await wait_for_warning(kube, namespace, "Alert", "ops", reason="NotificationFailed")
    assert failed["message"].startswith(
        f"failed to send the event of Kustomization/{namespace}/apps (HealthCheckFailed): "
    )
    missing = await wait_for_warning(kube, namespace, "Alert", "nowhere", reason="ProviderNotFound")
    assert missing["message"] == f"spec.providerRef: Provider '{namespace}/absent' not found"
    # The Warnings themselves are not alerted on: no event loop through a dead endpoint.
    await dispatcher.settle()
    assert len(await warnings_on(kube, namespace, "Alert", "ops", reason="NotificationFailed")) == 1

"""The dispatcher end to end over in-memory caches, with a recording Notifier (no network)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.notification import Dispatcher, DispatchOptions
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings
from tide.notification.setup import ALERT, PROVIDER
from tide.runtime.events import EventRecorder
from tide.testing import FakeKubeClient

pytestmark = pytest.mark.unit

NS = "team-a"
KUSTOMIZATION = resources.resource_type("Kustomization")


class Recording:
    """A Notifier that keeps what it is asked to send."""

    def __init__(self, settings: ProviderSettings, sent: dict[str, list[Event]]) -> None:
        self.sent = sent.setdefault(settings.name, [])

    async def post(self, event: Event) -> None:
        self.sent.append(event)

    async def aclose(self) -> None:
        pass


def payload(name: str = "apps", **extra: Any) -> dict[str, Any]:
    return {
        "involvedObject": {"kind": "Kustomization", "namespace": NS, "name": name},
        "severity": "error", "reason": "BuildFailed", "message": f"{name} failed",
        "reportingController": "kustomize-controller", **extra,
    }  # fmt: skip


@pytest_asyncio.fixture
async def world() -> AsyncIterator[tuple[FakeKubeClient, Dispatcher, dict[str, list[Event]]]]:
    client = FakeKubeClient()
    sent: dict[str, list[Event]] = {}

    def notifier_for(settings: ProviderSettings) -> Recording:
        if settings.type == "slack":
            raise InvalidProvider(f"Provider '{settings.name}': spec.channel is required")
        return Recording(settings, sent)

    caches = [WatchCache(client, rt) for rt in (ALERT, PROVIDER, resources.SECRET)]
    dispatcher = Dispatcher(
        client, alerts=caches[0], providers=caches[1], secrets=caches[2],
        recorder=EventRecorder(client, component="notification-controller", instance="test"),
        options=DispatchOptions(rate_limit_interval=0), notifier_for=notifier_for,
    )  # fmt: skip
    tasks = [asyncio.create_task(cache.run()) for cache in caches]
    await dispatcher.start()
    yield client, dispatcher, sent
    await dispatcher.stop()
    for task in tasks:
        task.cancel()


async def given(client: FakeKubeClient, name: str, *, type: str = "generic", **alert: Any) -> None:
    provider = {"type": type, "address": "http://127.0.0.1:9/"}
    await client.create(PROVIDER, {"metadata": {"name": name, "namespace": NS}, "spec": provider})
    spec = {"providerRef": {"name": name}, "eventSources": [{"kind": "Kustomization", "name": "*"}]}
    await client.create(ALERT, {"metadata": {"name": name, "namespace": NS},
                                "spec": {**spec, **alert}})  # fmt: skip
    await client.settle()


async def test_match_labels_are_read_from_the_live_object(world) -> None:
    client, dispatcher, sent = world
    await given(client, "payments", eventSources=[
        {"kind": "Kustomization", "name": "*", "matchLabels": {"team": "payments"}}])  # fmt: skip
    for name, team in (("apps", "payments"), ("infra", "platform")):
        await client.create(KUSTOMIZATION, {"metadata": {
            "name": name, "namespace": NS, "labels": {"team": team}}, "spec": {}})  # fmt: skip

    for name in ("apps", "infra", "gone"):
        await dispatcher.submit(payload(name))
    await dispatcher.settle()

    assert [e.involved_object.name for e in sent[f"{NS}/payments"]] == ["apps"]


async def test_the_notification_controllers_own_events_are_never_dispatched(world) -> None:
    client, dispatcher, sent = world
    await given(client, "hook")

    await dispatcher.submit(payload(reportingController="notification-controller"))
    await dispatcher.submit({**payload(), "involvedObject": {"kind": "Alert", "namespace": NS,
                                                              "name": "hook"}})  # fmt: skip
    await dispatcher.settle()

    assert sent.get(f"{NS}/hook", []) == []


async def test_a_suspended_provider_or_alert_sends_nothing_and_others_go_on(world) -> None:
    client, dispatcher, sent = world
    await given(client, "quiet", suspend=True)
    await given(client, "paused")
    await client.patch_merge(PROVIDER, "paused", {"spec": {"suspend": True}}, namespace=NS)
    await client.settle()
    await given(client, "loud")

    await dispatcher.submit(payload())
    await dispatcher.settle()

    assert sent.get(f"{NS}/quiet", []) == []
    assert sent.get(f"{NS}/paused", []) == []
    assert len(sent[f"{NS}/loud"]) == 1


async def test_an_invalid_provider_is_a_warning_on_it_naming_the_field(world) -> None:
    client, dispatcher, sent = world
    await given(client, "chat", type="slack")
    await given(client, "hook")

    await dispatcher.submit(payload())
    await dispatcher.settle()

    events = [e for e in client.objects(resources.EVENT, namespace=NS)
              if e["involvedObject"]["kind"] == "Provider"]  # fmt: skip
    assert [(e["type"], e["reason"], e["message"]) for e in events] == [
        ("Warning", "InvalidConfig", f"Provider '{NS}/chat': spec.channel is required")
    ]
    assert len(sent[f"{NS}/hook"]) == 1

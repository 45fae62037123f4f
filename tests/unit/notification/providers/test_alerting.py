"""Alerting and incident types: the request each service's API documents."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tide.notification.providers import Event, InvalidProvider, notifier_for

from .conftest import Sink, deliver, failed_event, make_event, settings

pytestmark = pytest.mark.unit

ERROR = failed_event()
INFO = make_event(metadata={"revision": "main@sha1:abc"})


async def _post(type_: str, *events: Event, **values: Any) -> None:
    await deliver(type_, *(events or (ERROR,)), **values)


async def test_alertmanager_gets_one_firing_alert_with_flux_labels(sink: Sink) -> None:
    await _post("alertmanager", address=f"{sink.url}/api/v2/alerts", token="am-token")

    request = sink.only
    assert (request.method, request.path) == ("POST", "/api/v2/alerts")
    assert request.headers["authorization"] == "Bearer am-token"
    assert request.json() == [
        {
            "status": "firing",
            "labels": {
                "alertname": "FluxKustomizationHealthCheckFailed",
                "severity": "error",
                "reason": "HealthCheckFailed",
                "kind": "Kustomization",
                "name": "webapp",
                "namespace": "apps",
                "revision": "main@sha1:abc",
            },
            "annotations": {"message": "timeout waiting for rollout", "summary": "prod eu-1"},
            "startsAt": "2022-10-28T07:26:19Z",
        }
    ]


async def test_alertmanager_basic_auth_comes_from_the_address(sink: Sink) -> None:
    address = sink.url.replace("http://", "http://am:pass@") + "/api/v2/alerts"

    await _post("alertmanager", address=address)

    expected = base64.b64encode(b"am:pass").decode()
    assert sink.only.headers["authorization"] == f"Basic {expected}"


async def test_grafana_annotation_carries_flux_tags(sink: Sink) -> None:
    await _post("grafana", INFO, address=f"{sink.url}/api/annotations", token="glsa_x")

    request = sink.only
    assert request.path == "/api/annotations"
    assert request.headers["authorization"] == "Bearer glsa_x"
    assert request.json() == {
        "time": 1666941979000,
        "text": "kustomization/webapp.apps: Reconciliation finished in 2s, next run in 5m",
        "tags": [
            "flux",
            "kustomize-controller",
            "revision: main@sha1:abc",
            "kind: Kustomization",
            "name: webapp",
            "namespace: apps",
        ],
    }


async def test_grafana_without_token_uses_basic_auth(sink: Sink) -> None:
    await _post("grafana", address=sink.url, username="admin", password="pw")

    expected = base64.b64encode(b"admin:pw").decode()
    assert sink.only.headers["authorization"] == f"Basic {expected}"


async def test_opsgenie_creates_an_alert_with_the_genie_key(sink: Sink) -> None:
    await _post("opsgenie", address=f"{sink.url}/v2/alerts", token="og-key")

    request = sink.only
    assert request.headers["authorization"] == "GenieKey og-key"
    assert request.json() == {
        "message": "kustomization/webapp.apps",
        "description": "timeout waiting for rollout",
        "details": {
            "summary": "prod eu-1",
            "revision": "main@sha1:abc",
            "severity": "error",
            "reason": "HealthCheckFailed",
        },
        "tags": ["flux", "kustomization"],
    }


def test_opsgenie_requires_a_token() -> None:
    with pytest.raises(InvalidProvider, match="requires a token"):
        notifier_for(settings("opsgenie"))


async def test_pagerduty_error_triggers_and_info_resolves_with_a_change_event(
    sink: Sink,
) -> None:
    await _post("pagerduty", ERROR, INFO, address=sink.url, channel="R0UTINGKEY")

    trigger, resolve, change = sink.requests
    assert [r.path for r in sink.requests] == ["/v2/enqueue", "/v2/enqueue", "/v2/change/enqueue"]
    assert trigger.json() == {
        "routing_key": "R0UTINGKEY",
        "event_action": "trigger",
        "dedup_key": "kustomization/webapp.apps",
        "payload": {
            "summary": "kustomization/webapp.apps: timeout waiting for rollout",
            "source": "kustomize-controller",
            "severity": "error",
            "timestamp": "2022-10-28T07:26:19Z",
            "component": "Kustomization/webapp",
            "group": "apps",
            "class": "HealthCheckFailed",
            "custom_details": {"summary": "prod eu-1", "revision": "main@sha1:abc"},
        },
    }
    assert resolve.json() == {
        "routing_key": "R0UTINGKEY",
        "event_action": "resolve",
        "dedup_key": "kustomization/webapp.apps",
    }
    assert change.json()["payload"]["summary"].startswith("kustomization/webapp.apps: Recon")


def test_pagerduty_requires_the_routing_key_as_channel() -> None:
    with pytest.raises(InvalidProvider, match="requires a channel"):
        notifier_for(settings("pagerduty"))


async def test_datadog_posts_an_event_with_the_api_key(sink: Sink) -> None:
    await _post("datadog", address=sink.url, token="dd-key")

    request = sink.only
    assert request.path == "/api/v1/events"
    assert request.headers["dd-api-key"] == "dd-key"
    body = request.json()
    assert body["title"] == "kustomization/webapp.apps"
    assert body["text"] == "timeout waiting for rollout"
    assert body["alert_type"] == "error"
    assert body["date_happened"] == 1666941979
    assert "revision:main@sha1:abc" in body["tags"]
    assert "kube_namespace:apps" in body["tags"]


async def test_githubdispatch_sends_repository_dispatch(sink: Sink) -> None:
    await _post("githubdispatch", INFO, address=f"{sink.url}/stefanprodan/podinfo", token="ghp")

    request = sink.only
    assert request.path == "/api/v3/repos/stefanprodan/podinfo/dispatches"
    assert request.headers["authorization"] == "Bearer ghp"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.json() == {
        "event_type": "Kustomization/webapp.apps",
        "client_payload": INFO.to_json(),
    }


def _envelope(body: bytes) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    header, item_header, payload = body.split(b"\n")[:3]
    return json.loads(header), json.loads(item_header), json.loads(payload)


async def test_sentry_error_is_an_error_event_in_an_envelope(sink: Sink) -> None:
    dsn = sink.url.replace("http://", "http://publickey@") + "/42"

    await _post("sentry", address=dsn, channel="staging")

    request = sink.only
    assert request.path == "/api/42/envelope/"
    assert "sentry_key=publickey" in request.headers["x-sentry-auth"]
    header, item_header, event = _envelope(request.body)
    assert header["event_id"] == event["event_id"]
    assert item_header["type"] == "event"
    assert event["level"] == "error"
    assert event["environment"] == "staging"
    assert event["message"] == {"formatted": "timeout waiting for rollout"}
    assert event["extra"] == {"summary": "prod eu-1", "revision": "main@sha1:abc"}


async def test_sentry_info_is_a_transaction_with_one_span(sink: Sink) -> None:
    dsn = sink.url.replace("http://", "http://publickey@") + "/42"

    await _post("sentry", INFO, address=dsn)

    _, item_header, transaction = _envelope(sink.only.body)
    assert item_header["type"] == "transaction"
    assert transaction["transaction"] == "kustomization/webapp.apps"
    (span,) = transaction["spans"]
    assert span["tags"] == {"revision": "main@sha1:abc"}
    assert span["parent_span_id"] == transaction["contexts"]["trace"]["span_id"]


def test_sentry_address_must_be_a_dsn() -> None:
    with pytest.raises(InvalidProvider, match="must be a Sentry DSN"):
        notifier_for(settings("sentry", address="https://sentry.io/42"))

"""generic and generic-hmac: Flux's event JSON at the address, signed for generic-hmac."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket

import pytest

from tide.notification.providers import InvalidProvider, SendFailed, notifier_for

from .conftest import Sink, TlsSink, make_event, settings

pytestmark = pytest.mark.unit


async def test_generic_posts_the_event_json_with_secret_headers(sink: Sink) -> None:
    notifier = notifier_for(
        settings("generic", address=f"{sink.url}/hook", headers={"X-Team": "platform"})
    )
    event = make_event()

    await notifier.post(event)
    await notifier.aclose()

    request = sink.only
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-team"] == "platform"
    assert request.headers["gotk-component"] == "kustomize-controller"
    assert request.json() == {
        "involvedObject": {
            "kind": "Kustomization",
            "namespace": "apps",
            "name": "webapp",
            "uid": "7d0cdc51-ddcf-4743-b223-83ca5c699632",
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        },
        "severity": "info",
        "timestamp": "2022-10-28T07:26:19Z",
        "message": "Reconciliation finished in 2s, next run in 5m",
        "reason": "ReconciliationSucceeded",
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-7c7b47f5f-8bhrp",
        "metadata": {"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
    }


async def test_generic_hmac_signs_the_exact_body_with_the_token(sink: Sink) -> None:
    notifier = notifier_for(settings("generic-hmac", address=sink.url, token="s3cr3t"))

    await notifier.post(make_event())
    await notifier.aclose()

    request = sink.only
    expected = hmac.new(b"s3cr3t", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-signature"] == f"sha256={expected}"


def test_generic_hmac_without_token_is_invalid() -> None:
    with pytest.raises(InvalidProvider, match=r"Provider 'apps/alerts'.*requires a token"):
        notifier_for(settings("generic-hmac", address="https://example.com/hook"))


@pytest.mark.parametrize("address", ["", "not a url", "ftp://example.com/x", "https:///path"])
def test_generic_with_malformed_address_is_invalid(address: str) -> None:
    with pytest.raises(InvalidProvider, match=r"Provider 'apps/alerts'.*address"):
        notifier_for(settings("generic", address=address))


def test_unknown_type_is_not_supported() -> None:
    with pytest.raises(InvalidProvider, match="type 'carrier-pigeon' is not supported yet"):
        notifier_for(settings("carrier-pigeon"))


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (400, False), (404, False), (401, False)],
)
async def test_http_status_decides_whether_a_failure_is_retried(
    sink: Sink, status: int, retryable: bool
) -> None:
    sink.respond("/services/T000/B000/XXXXSECRET", status, '{"error": "nope"}')
    notifier = notifier_for(
        settings("generic", address=f"{sink.url}/services/T000/B000/XXXXSECRET?key=abc")
    )

    with pytest.raises(SendFailed) as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert failure.value.retryable is retryable
    message = str(failure.value)
    assert f"Provider 'apps/alerts' (generic): POST {sink.url} returned HTTP {status}" in message
    assert "SECRET" not in message
    assert "key=abc" not in message


async def test_a_token_echoed_by_the_service_is_scrubbed(sink: Sink) -> None:
    sink.respond("/", 403, '{"error": "bad token s3cr3t"}')
    notifier = notifier_for(settings("generic-hmac", address=sink.url, token="s3cr3t"))

    with pytest.raises(SendFailed) as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert "s3cr3t" not in str(failure.value)
    assert "bad token *****" in str(failure.value)


async def test_timeout_is_retryable_and_honours_settings_timeout(sink: Sink) -> None:
    sink.hang.add("/slow")
    notifier = notifier_for(settings("generic", address=f"{sink.url}/slow", timeout=0.3))

    with pytest.raises(SendFailed, match=r"timed out after 0.3s") as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert failure.value.retryable


async def test_refused_connection_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = notifier_for(settings("generic", address=f"http://127.0.0.1:{port}/x"))

    with pytest.raises(SendFailed, match="ConnectError") as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert failure.value.retryable


async def test_https_endpoint_is_trusted_through_the_settings_tls_context(
    tls_sink: TlsSink,
) -> None:
    trusted = notifier_for(
        settings("generic", address=tls_sink.sink.url, tls=tls_sink.client_context)
    )
    untrusted = notifier_for(settings("generic", address=tls_sink.sink.url))

    await trusted.post(make_event())
    with pytest.raises(SendFailed, match="ConnectError"):
        await untrusted.post(make_event())
    await trusted.aclose()
    await untrusted.aclose()

    assert len(tls_sink.sink.requests) == 1


async def test_requests_go_through_the_settings_proxy(sink: Sink) -> None:
    notifier = notifier_for(
        settings("generic", address="http://hooks.example.invalid/flux", proxy=sink.url)
    )

    await notifier.post(make_event())
    await notifier.aclose()

    assert sink.only.path == "/flux"
    assert sink.only.headers["host"] == "hooks.example.invalid"


async def test_debug_logs_of_requests_do_not_show_the_webhook_path(
    sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = notifier_for(settings("slack", address=f"{sink.url}/services/T0/B0/SECRETPATH"))

    with caplog.at_level(logging.DEBUG, logger="httpx"):
        await notifier.post(make_event())
    await notifier.aclose()

    logged = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert logged, "httpx logged no request line"
    assert all("SECRETPATH" not in line for line in logged)
    assert f"POST {sink.url}/…" in logged[0]

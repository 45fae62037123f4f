"""Flux's events endpoint: what it accepts, what it refuses and why, and the metadata it keeps."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tide.notification.intake import MAX_BODY, flux_metadata

pytestmark = pytest.mark.unit

FLUX_EVENT = {
    "involvedObject": {
        "kind": "Kustomization", "namespace": "flux-system", "name": "apps",
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "uid": "1",
    },
    "severity": "error",
    "timestamp": "2026-01-01T00:00:00Z",
    "message": "health check failed",
    "reason": "HealthCheckFailed",
    "metadata": {
        "kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc",
        "kustomize.toolkit.fluxcd.io/token": "t",
        "other": "dropped",
    },
    "reportingController": "kustomize-controller",
}  # fmt: skip


async def post(url: str, body: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body) as response:
        return response.status, await response.text()


async def test_a_flux_event_is_accepted_with_its_group_prefix_stripped(server) -> None:
    url, received = server

    status, _ = await post(url, json.dumps(FLUX_EVENT).encode())

    assert status == 202
    assert received[0]["metadata"] == {"revision": "main@sha1:abc"}
    assert received[0]["reason"] == "HealthCheckFailed"


async def test_malformed_json_is_a_400_saying_so(server) -> None:
    url, received = server

    status, text = await post(url, b"{not json")

    assert status == 400 and text.startswith("the body is not JSON")
    assert received == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"involvedObject": None}, "field 'involvedObject' must be an object"),
        ({"severity": "fatal"}, "field 'severity' must be 'info' or 'error'"),
        ({"reason": ""}, "field 'reason' is required"),
        ({"metadata": {"n": 1}}, "field 'metadata' must map strings to strings"),
    ],
)
async def test_an_object_that_is_no_event_is_a_400_naming_the_field(
    server, change, problem
) -> None:
    url, received = server

    status, text = await post(url, json.dumps({**FLUX_EVENT, **change}).encode())

    assert (status, text.strip()) == (400, f"not a Flux event: {problem}")
    assert received == []


async def test_a_body_over_the_bound_is_a_413(server) -> None:
    url, received = server

    status, _ = await post(url, b" " * (MAX_BODY + 10))

    assert status == 413
    assert received == []


def test_flux_metadata_of_an_event_without_api_version_is_empty() -> None:
    payload = {**FLUX_EVENT, "involvedObject": {"kind": "Kustomization"}}

    assert flux_metadata(payload) == {}

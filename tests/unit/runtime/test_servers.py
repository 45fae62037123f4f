"""Metrics and probe servers, and parsing the addresses they listen on."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tide.runtime import metrics
from tide.runtime.servers import CannotListen, Endpoint, ProbeServers, parse_address

pytestmark = pytest.mark.unit


def test_port_only_address_listens_on_all_interfaces() -> None:
    assert parse_address(":8080") == Endpoint("0.0.0.0", 8080)


def test_host_and_port_address_is_split() -> None:
    assert parse_address("127.0.0.1:0") == Endpoint("127.0.0.1", 0)
    assert parse_address("localhost:9440") == Endpoint("localhost", 9440)


@pytest.mark.parametrize(
    "text", ["", "8080", "localhost", "host:", ":http", "127.0.0.1:-1", ":80x"]
)
def test_address_without_a_numeric_port_is_refused_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_address(text)


def test_bracketed_ipv6_address_is_parsed_to_a_bare_host() -> None:
    # Flux's --metrics-addr (Go's net.Listen) takes "[::1]:8080"; the brackets are not part
    # of the host that is bound.
    assert parse_address("[::1]:8080") == Endpoint("::1", 8080)


def test_port_above_65535_is_refused_naming_the_text() -> None:
    with pytest.raises(ValueError, match=re.escape("':99999'")):
        parse_address(":99999")


@pytest.fixture
async def servers() -> AsyncIterator[tuple[ProbeServers, list[bool]]]:
    ready = [False]
    loopback = Endpoint("127.0.0.1", 0)
    probe = ProbeServers(metrics=loopback, health=loopback, ready=lambda: ready[0])
    await probe.start()
    try:
        yield probe, ready
    finally:
        await probe.stop()


def _url(probe: ProbeServers, server: str, path: str) -> str:
    return f"http://127.0.0.1:{probe.bound[server]}{path}"


async def test_port_zero_binds_real_distinct_ports(
    servers: tuple[ProbeServers, list[bool]],
) -> None:
    probe, _ = servers

    assert set(probe.bound) == {"metrics", "health"}
    assert all(port > 0 for port in probe.bound.values())
    assert probe.bound["metrics"] != probe.bound["health"]


async def test_metrics_endpoint_serves_prometheus_text(
    servers: tuple[ProbeServers, list[bool]],
) -> None:
    probe, _ = servers
    metrics.RECONCILE_TOTAL.labels(controller="test-servers", result="success").inc()

    async with httpx.AsyncClient() as client:
        response = await client.get(_url(probe, "metrics", "/metrics"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE controller_runtime_reconcile_total counter" in response.text
    assert 'controller="test-servers",result="success"' in response.text


async def test_healthz_answers_ok(servers: tuple[ProbeServers, list[bool]]) -> None:
    probe, _ = servers

    async with httpx.AsyncClient() as client:
        response = await client.get(_url(probe, "health", "/healthz"))

    assert response.status_code == 200
    assert response.text == "ok"


async def test_readyz_answers_503_until_ready_then_ok(
    servers: tuple[ProbeServers, list[bool]],
) -> None:
    probe, ready = servers

    async with httpx.AsyncClient() as client:
        before = await client.get(_url(probe, "health", "/readyz"))
        ready[0] = True
        after = await client.get(_url(probe, "health", "/readyz"))

    assert before.status_code == 503
    assert after.status_code == 200
    assert after.text == "ok"


async def test_metrics_and_probes_are_served_on_separate_ports(
    servers: tuple[ProbeServers, list[bool]],
) -> None:
    probe, _ = servers

    async with httpx.AsyncClient() as client:
        probes_on_metrics = await client.get(_url(probe, "metrics", "/healthz"))
        metrics_on_probes = await client.get(_url(probe, "health", "/metrics"))

    assert probes_on_metrics.status_code == 404
    assert metrics_on_probes.status_code == 404


async def test_stopped_servers_refuse_connections() -> None:
    loopback = Endpoint("127.0.0.1", 0)
    probe = ProbeServers(metrics=loopback, health=loopback, ready=lambda: True)
    await probe.start()
    url = _url(probe, "health", "/healthz")

    await probe.stop()

    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port another program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("taken", ["metrics", "health"])
async def test_a_taken_port_is_named_in_one_line_with_the_server_it_was_for(
    held_port: int, taken: str
) -> None:
    free = Endpoint("127.0.0.1", 0)
    held = Endpoint("127.0.0.1", held_port)
    probe = ProbeServers(
        metrics=held if taken == "metrics" else free,
        health=held if taken == "health" else free,
        ready=lambda: True,
    )
    try:
        with pytest.raises(CannotListen) as refused:
            await probe.start()
    finally:
        await probe.stop()

    assert str(refused.value) == (
        f"cannot listen on 127.0.0.1:{held_port} for {taken}: address already in use"
    )
    assert refused.value.endpoint == held


async def test_an_unknown_host_is_named_with_the_resolver_words() -> None:
    probe = ProbeServers(
        metrics=Endpoint("no-such-host.invalid", 0),
        health=Endpoint("127.0.0.1", 0),
        ready=lambda: True,
    )
    try:
        with pytest.raises(CannotListen) as refused:
            await probe.start()
    finally:
        await probe.stop()

    message = str(refused.value)
    assert message.startswith("cannot listen on no-such-host.invalid:0 for metrics: ")
    assert "errno" not in message.lower() and "unknown error" not in message.lower()


def test_an_ipv6_endpoint_is_written_with_brackets() -> None:
    assert str(Endpoint("::1", 8080)) == "[::1]:8080"
    assert str(Endpoint("0.0.0.0", 9440)) == "0.0.0.0:9440"

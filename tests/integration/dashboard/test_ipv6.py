"""The dashboard on the IPv6 loopback: a browser's ``Host: [::1]:port`` is its own name.

Skipped only where the machine has no IPv6 loopback (``::1`` cannot be bound).
"""

from __future__ import annotations

import socket

import httpx
import pytest
from playwright.async_api import Page, expect

from tide.dashboard import Fleet, running
from tide.kube.client import KubeClient
from tide.runtime.servers import parse_address

pytestmark = pytest.mark.integration


def _no_ipv6_loopback() -> str:
    """Why ``::1`` cannot be listened on here, or "" when it can."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as error:
        return f"this machine has no IPv6 loopback (binding [::1] failed: {error})"
    return ""


async def test_the_dashboard_on_ipv6_loopback_answers_its_own_page(
    kube: KubeClient, crds: list[str], browser: Page
) -> None:
    if reason := _no_ipv6_loopback():
        pytest.skip(reason)
    endpoint = parse_address("[::1]:0")
    async with running(Fleet.of_client(kube), endpoint) as url:
        assert url.startswith("http://[::1]:")
        await browser.goto(url)
        await expect(browser.locator("#who")).to_have_text("admin")
        await expect(browser.locator("#live")).to_have_class("live on")
        async with httpx.AsyncClient() as http:
            asked = await http.get(f"{url}api/overview")
            # An action from the page's own origin passes the guard (then fails on its body).
            acted = await http.post(
                f"{url}api/action",
                content=b"{}",
                headers={"X-Tide-Dashboard": "1", "Origin": url.rstrip("/")},
            )
            rebound = await http.get(f"{url}api/overview", headers={"Host": "evil.example"})
    assert asked.status_code == 200
    assert asked.json()["user"] == "admin"
    assert acted.status_code == 400
    assert rebound.status_code == 421

"""What every HTTP provider type shares: one client per Notifier, outcome mapping, redaction.

Each Notifier owns one :class:`httpx.AsyncClient` built from the Provider's settings (timeout,
TLS context, proxy, the Secret's ``headers``), so a Provider's connections are pooled and closed
with it. Every response is judged the same way: 2xx is delivered; 429, 5xx, timeouts and
connection errors may pass later (``retryable``); any other status will not. Messages name the
Provider, the method, the endpoint's scheme and host, and the status — never a path or query
(Slack, Discord and Teams webhook URLs carry their secret there) and never the token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from tide.notification.providers.base import InvalidProvider, ProviderSettings, SendFailed

__all__ = ["HttpNotifier", "redact", "require", "require_url"]

_BODY_EXCERPT = 200
"""Characters of an error response quoted in a message: enough for ``{"error": "..."}``."""


_NOTIFIER_ORIGINS: set[str] = set()
"""``scheme://host[:port]`` of every endpoint a Notifier was built for."""


class _RedactNotifierRequests(logging.Filter):
    """Cut the path and query from httpx's request log lines for notification endpoints.

    httpx logs each request with its full URL (at INFO; Tide shows it with ``--log-level
    debug``), and a Slack, Discord or Teams webhook's path, or a Telegram bot's, is its secret.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], httpx.URL):
            origin = redact(args[1])
            if origin in _NOTIFIER_ORIGINS:
                record.args = (args[0], f"{origin}/…", *args[2:])
        return True


logging.getLogger("httpx").addFilter(_RedactNotifierRequests())


def redact(url: httpx.URL | str) -> str:
    """Return ``scheme://host[:port]`` of ``url``: no credentials, path or query."""
    parsed = httpx.URL(str(url))
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def require(settings: ProviderSettings, field: str) -> str:
    """Return the setting ``field`` (``token``, ``channel``...) or raise naming it."""
    value = str(getattr(settings, field, "") or "")
    if not value:
        article = "an" if field[:1] in "aeiou" else "a"
        raise InvalidProvider(
            f"Provider '{settings.name}': type '{settings.type}' requires {article} {field}"
            + (" (the Secret's 'token' key)" if field == "token" else "")
        )
    return value


def require_url(settings: ProviderSettings, *, default: str = "") -> httpx.URL:
    """Return ``settings.address`` (or ``default``) as an absolute http(s) URL.

    The address is not quoted in the error: it may come from the Secret and hold a secret.
    """
    raw = settings.address or default
    if not raw:
        raise InvalidProvider(
            f"Provider '{settings.name}': type '{settings.type}' requires an address"
        )
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InvalidProvider(
            f"Provider '{settings.name}': address must be an http:// or https:// URL with a host"
        )
    return url


class HttpNotifier:
    """Base of the provider types that speak HTTP: owns the client, judges each response."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(
            timeout=settings.timeout,
            verify=settings.tls if settings.tls is not None else True,
            proxy=settings.proxy or None,
            headers=dict(settings.headers),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the Provider's pooled connections."""
        await self._client.aclose()

    async def send(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request and return its 2xx response; raise :class:`SendFailed` otherwise."""
        _NOTIFIER_ORIGINS.add(redact(url))
        where = f"{method} {redact(url)}"
        try:
            response = await self._client.request(
                method,
                url,
                json=json,
                content=content,
                headers=headers,
                auth=auth,
            )
        except httpx.TimeoutException as error:
            raise self.failed(f"{where} timed out after {self.settings.timeout:g}s") from error
        except httpx.TransportError as error:
            raise self.failed(f"{where} failed: {type(error).__name__}") from error
        if response.is_success:
            return response
        status = response.status_code
        retryable = status == 429 or status >= 500
        excerpt = self.scrub(response.text[:_BODY_EXCERPT].strip())
        detail = f": {excerpt}" if excerpt else ""
        raise self.failed(f"{where} returned HTTP {status}{detail}", retryable=retryable)

    def failed(self, what: str, *, retryable: bool = True) -> SendFailed:
        """Return a :class:`SendFailed` naming this Provider and its type."""
        settings = self.settings
        return SendFailed(
            f"Provider '{settings.name}' ({settings.type}): {self.scrub(what)}",
            retryable=retryable,
        )

    def scrub(self, text: str) -> str:
        """Replace the credentials of this Provider in ``text`` (a service may echo them)."""
        for secret in (self.settings.token, self.settings.password):
            if secret:
                text = text.replace(secret, "*****")
        return text

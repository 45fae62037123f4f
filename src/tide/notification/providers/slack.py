"""``slack``, ``discord`` and ``rocket``: one Slack message with one attachment per event.

The attachment is Flux's: colour ``good`` for info and ``danger`` for error, the object as
``author_name`` (``<kind>/<name>.<namespace>``), the message as text, each metadata entry as a
field. ``channel`` and ``username`` (default: the reporting controller) go in the payload.

- ``slack`` posts to the address: an incoming webhook URL, or with a token the Web API
  (``https://slack.com/api/chat.postMessage``) with ``Authorization: Bearer <token>``. The Web
  API answers 200 even when it refuses (``{"ok": false, "error": ...}``), so the answer is read.
- ``discord`` posts the same payload to the webhook's Slack-compatible ``/slack`` endpoint.
- ``rocket`` posts it to a Rocket.Chat incoming webhook, which reads Slack's format.
"""

from __future__ import annotations

from typing import Any

import httpx

from tide.notification.providers._format import is_error, metadata_items, object_ref
from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["DiscordNotifier", "RocketNotifier", "SlackNotifier", "slack_payload"]

_RETRYABLE_API_ERRORS = frozenset({"ratelimited", "rate_limited", "service_unavailable"})


def slack_payload(event: Event, *, channel: str = "", username: str = "") -> dict[str, Any]:
    """Return the Slack message for ``event``."""
    attachment = {
        "color": "danger" if is_error(event) else "good",
        "author_name": object_ref(event),
        "text": event.message,
        "mrkdwn_in": ["text"],
        "fields": [
            {"title": key, "value": value, "short": False} for key, value in metadata_items(event)
        ],
    }
    payload: dict[str, Any] = {"attachments": [attachment]}
    if channel:
        payload["channel"] = channel
    if username or event.reporting_controller:
        payload["username"] = username or event.reporting_controller
    return payload


class SlackNotifier(HttpNotifier):
    """Post to a Slack incoming webhook, or to the Web API when a token is set."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = self.endpoint(require_url(settings))
        super().__init__(settings)

    def endpoint(self, address: httpx.URL) -> httpx.URL:
        """Return where to post; Slack posts to the address itself."""
        return address

    async def post(self, event: Event) -> None:
        """Send ``event`` as one message."""
        settings = self.settings
        payload = slack_payload(event, channel=settings.channel, username=settings.username)
        headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else None
        response = await self.send("POST", self.url, json=payload, headers=headers)
        self.check_answer(response)

    def check_answer(self, response: httpx.Response) -> None:
        """Raise when the Web API said ``ok: false`` in a 200 answer."""
        if not response.headers.get("content-type", "").startswith("application/json"):
            return
        try:
            answer = response.json()
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("ok") is False:
            error = str(answer.get("error") or "unknown error")
            raise self.failed(
                f"the Slack API refused the message: {error}",
                retryable=error in _RETRYABLE_API_ERRORS,
            )


class DiscordNotifier(SlackNotifier):
    """Post to a Discord webhook's Slack-compatible endpoint."""

    def endpoint(self, address: httpx.URL) -> httpx.URL:
        """Append ``/slack`` to the webhook path, unless it is there already."""
        path = address.path.rstrip("/")
        if not path.endswith("/slack"):
            path = f"{path}/slack"
        return address.copy_with(path=path)


class RocketNotifier(SlackNotifier):
    """Post to a Rocket.Chat incoming webhook (Slack's format)."""

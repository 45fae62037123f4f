"""Chat types: each event becomes exactly the message its service expects."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from tide.notification.providers import Event, InvalidProvider, SendFailed, notifier_for
from tide.notification.providers.matrix import transaction_id

from .conftest import Sink, deliver, failed_event, make_event, settings

pytestmark = pytest.mark.unit

ERROR = failed_event()


async def _post(type_: str, event: Event = ERROR, **values: Any) -> None:
    await deliver(type_, event, **values)


async def test_slack_webhook_gets_one_attachment_coloured_by_severity(sink: Sink) -> None:
    await _post("slack", address=f"{sink.url}/services/T/B/X", channel="ops")

    request = sink.only
    assert (request.method, request.path) == ("POST", "/services/T/B/X")
    assert "authorization" not in request.headers
    assert request.json() == {
        "channel": "ops",
        "username": "kustomize-controller",
        "attachments": [
            {
                "color": "danger",
                "author_name": "kustomization/webapp.apps",
                "text": "timeout waiting for rollout",
                "mrkdwn_in": ["text"],
                "fields": [
                    {"title": "revision", "value": "main@sha1:abc", "short": False},
                    {"title": "summary", "value": "prod eu-1", "short": False},
                ],
            }
        ],
    }


async def test_slack_info_is_good_and_username_setting_wins(sink: Sink) -> None:
    await _post("slack", event=make_event(), address=sink.url, username="flux")

    body = sink.only.json()
    assert body["attachments"][0]["color"] == "good"
    assert body["username"] == "flux"
    assert "channel" not in body


async def test_slack_with_token_calls_the_web_api_with_bearer(sink: Sink) -> None:
    await _post(
        "slack", address=f"{sink.url}/api/chat.postMessage", token="xoxb-1", channel="general"
    )

    request = sink.only
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-1"
    assert request.json()["channel"] == "general"


async def test_slack_web_api_refusal_in_a_200_answer_fails(sink: Sink) -> None:
    sink.respond("/api/chat.postMessage", 200, '{"ok": false, "error": "channel_not_found"}')

    with pytest.raises(SendFailed, match="channel_not_found") as failure:
        await _post("slack", address=f"{sink.url}/api/chat.postMessage", token="xoxb-1")

    assert not failure.value.retryable


async def test_discord_posts_slack_payload_to_the_slack_endpoint(sink: Sink) -> None:
    await _post("discord", address=f"{sink.url}/api/webhooks/123/tok")

    assert sink.only.path == "/api/webhooks/123/tok/slack"
    assert sink.only.json()["attachments"][0]["author_name"] == "kustomization/webapp.apps"


async def test_discord_keeps_an_existing_slack_suffix(sink: Sink) -> None:
    await _post("discord", address=f"{sink.url}/api/webhooks/123/tok/slack")

    assert sink.only.path == "/api/webhooks/123/tok/slack"


async def test_rocket_posts_slack_payload_to_the_address(sink: Sink) -> None:
    await _post("rocket", address=f"{sink.url}/hooks/abc")

    assert sink.only.path == "/hooks/abc"
    assert sink.only.json()["attachments"][0]["color"] == "danger"


async def test_msteams_workflow_gets_an_adaptive_card(sink: Sink) -> None:
    await _post("msteams", address=f"{sink.url}/workflows/x/triggers/manual/paths/invoke")

    body = sink.only.json()
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    title, text, facts = card["body"]
    assert (title["text"], title["color"]) == ("kustomization/webapp.apps", "Attention")
    assert text["text"] == "timeout waiting for rollout"
    assert facts["facts"] == [
        {"title": "revision", "value": "main@sha1:abc"},
        {"title": "summary", "value": "prod eu-1"},
    ]


async def test_msteams_connector_host_gets_a_legacy_message_card(sink: Sink) -> None:
    # The host decides the format; the request goes through the sink as a proxy.
    await _post(
        "msteams", address="http://contoso.webhook.office.com/webhookb2/abc", proxy=sink.url
    )

    body = sink.only.json()
    assert sink.only.headers["host"] == "contoso.webhook.office.com"
    assert body["@type"] == "MessageCard"
    assert body["themeColor"] == "FF0000"
    assert body["sections"][0]["activityTitle"] == "kustomization/webapp.apps"
    assert body["sections"][0]["facts"][1] == {"name": "summary", "value": "prod eu-1"}


async def test_googlechat_gets_a_card_with_key_values(sink: Sink) -> None:
    await _post("googlechat", address=f"{sink.url}/v1/spaces/AAA/messages?key=k&token=t")

    request = sink.only
    assert request.query == "key=k&token=t"
    (card,) = request.json()["cards"]
    assert card["header"] == {"title": "kustomization/webapp.apps"}
    message, facts = card["sections"]
    assert message["widgets"][0]["textParagraph"]["text"].startswith("timeout waiting")
    assert facts["widgets"][1] == {"keyValue": {"topLabel": "summary", "content": "prod eu-1"}}


async def test_webex_posts_markdown_to_the_room_with_bearer(sink: Sink) -> None:
    await _post("webex", address=f"{sink.url}/v1/messages", token="bot", channel="room-1")

    request = sink.only
    assert request.headers["authorization"] == "Bearer bot"
    assert request.json() == {
        "roomId": "room-1",
        "markdown": "**kustomization/webapp.apps**\n\n"
        "timeout waiting for rollout\n\n"
        "- **revision**: main@sha1:abc\n- **summary**: prod eu-1",
    }


def test_webex_requires_a_room_and_a_token() -> None:
    with pytest.raises(InvalidProvider, match="requires a channel"):
        notifier_for(settings("webex", token="t"))
    with pytest.raises(InvalidProvider, match="requires a token"):
        notifier_for(settings("webex", channel="room"))


async def test_telegram_calls_send_message_with_the_token_in_the_path(sink: Sink) -> None:
    await _post("telegram", address=sink.url, token="123:ABC", channel="@fluxcd")

    request = sink.only
    assert request.path == "/bot123:ABC/sendMessage"
    assert request.json() == {
        "chat_id": "@fluxcd",
        "text": "kustomization/webapp.apps\n"
        "timeout waiting for rollout\n"
        "• revision: main@sha1:abc\n• summary: prod eu-1",
    }


async def test_telegram_failure_does_not_show_the_token(sink: Sink) -> None:
    sink.respond("/bot123:ABC/sendMessage", 400, '{"ok":false,"description":"chat not found"}')

    with pytest.raises(SendFailed) as failure:
        await _post("telegram", address=sink.url, token="123:ABC", channel="@nobody")

    assert "123:ABC" not in str(failure.value)
    assert "HTTP 400" in str(failure.value)


async def test_matrix_puts_a_text_event_with_a_stable_transaction_id(sink: Sink) -> None:
    await _post("matrix", address=sink.url, token="syt_x", channel="!room:example.org")
    await _post("matrix", address=sink.url, token="syt_x", channel="!room:example.org")

    first, second = sink.requests
    assert first.method == "PUT"
    assert unquote(first.path) == (
        f"/_matrix/client/r0/rooms/!room:example.org/send/m.room.message/{transaction_id(ERROR)}"
    )
    assert first.path == second.path
    assert first.headers["authorization"] == "Bearer syt_x"
    assert first.json()["msgtype"] == "m.text"
    assert first.json()["body"].startswith("kustomization/webapp.apps\ntimeout waiting")


async def test_lark_posts_an_interactive_card(sink: Sink) -> None:
    await _post("lark", address=f"{sink.url}/open-apis/bot/v2/hook/xyz")

    body = sink.only.json()
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"] == {
        "title": {"tag": "plain_text", "content": "kustomization/webapp.apps"},
        "template": "red",
    }
    assert body["card"]["elements"][0]["text"]["content"].endswith("• summary: prod eu-1")


async def test_lark_refusal_in_a_200_answer_fails(sink: Sink) -> None:
    sink.respond("/hook", 200, '{"code": 19021, "msg": "sign match fail"}')

    with pytest.raises(SendFailed, match="code 19021: sign match fail"):
        await _post("lark", address=f"{sink.url}/hook")


@pytest.mark.parametrize("type_", ["slack", "discord", "rocket", "msteams", "googlechat", "lark"])
def test_webhook_types_require_an_address(type_: str) -> None:
    with pytest.raises(InvalidProvider, match=f"type '{type_}' requires an address"):
        notifier_for(settings(type_))

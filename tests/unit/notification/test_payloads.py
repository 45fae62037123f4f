"""Webhook payload checks per Receiver type: what each sender must prove, and what it gets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tide.notification.payloads import Delivery, Rejected, check, sign

pytestmark = pytest.mark.unit

TOKEN = b"s3cr3t"
BODY = json.dumps({"ref": "refs/heads/main"}).encode()


def hexmac(body: bytes, algorithm: str = "sha256", key: bytes = TOKEN) -> str:
    return hmac.new(key, body, getattr(hashlib, algorithm)).hexdigest()


def rejected(receiver_type: str, headers: dict[str, str], body: bytes = BODY) -> Rejected:
    with pytest.raises(Rejected) as caught:
        check(receiver_type, Delivery(headers, body), token=TOKEN)
    return caught.value


def test_generic_accepts_anything_and_decodes_a_json_body() -> None:
    verdict = check("generic", Delivery({}, BODY), token=TOKEN)

    assert verdict.payload == {"ref": "refs/heads/main"}
    assert not verdict.ping and not verdict.skipped


def test_generic_accepts_a_body_that_is_not_json() -> None:
    assert check("generic", Delivery({}, b"hello"), token=TOKEN).payload is None


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_generic_hmac_accepts_each_hash_function(algorithm: str) -> None:
    headers = {"X-Signature": f"{algorithm}={hexmac(BODY, algorithm)}"}

    assert check("generic-hmac", Delivery(headers, BODY), token=TOKEN).payload is not None


def test_sign_produces_what_generic_hmac_accepts() -> None:
    assert sign(BODY, TOKEN, algorithm="sha512") == f"sha512={hexmac(BODY, 'sha512')}"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "the X-Signature header is missing"),
        ({"X-Signature": "md5=abc"}, "the X-Signature header is not '<sha1|sha256|sha512>="),
        ({"X-Signature": "deadbeef"}, "the X-Signature header is not '<sha1|sha256|sha512>="),
        (
            {"X-Signature": f"sha256={hexmac(BODY, key=b'other')}"},
            "the X-Signature header does not match the HMAC of the body",
        ),
    ],
    ids=["missing", "unknown-hash", "no-prefix", "wrong-key"],
)
def test_generic_hmac_refuses_a_bad_signature_with_401(
    headers: dict[str, str], message: str
) -> None:
    error = rejected("generic-hmac", headers)

    assert error.status == 401
    assert str(error).startswith(message)
    assert hexmac(BODY) not in str(error) and "s3cr3t" not in str(error)


def test_generic_hmac_refuses_a_body_changed_after_signing() -> None:
    headers = {"X-Signature": f"sha256={hexmac(BODY)}"}

    assert rejected("generic-hmac", headers, body=BODY + b" ").status == 401


def test_github_checks_the_sha256_signature_first() -> None:
    headers = {
        "X-Hub-Signature-256": f"sha256={hexmac(BODY)}",
        "X-Hub-Signature": "sha1=0000",  # ignored when the stronger one is there
        "X-GitHub-Event": "push",
    }

    verdict = check("github", Delivery(headers, BODY), token=TOKEN, events=["push"])

    assert verdict.event == "push" and not verdict.skipped


def test_github_falls_back_to_the_sha1_signature() -> None:
    headers = {"X-Hub-Signature": f"sha1={hexmac(BODY, 'sha1')}", "X-GitHub-Event": "push"}

    assert check("github", Delivery(headers, BODY), token=TOKEN).event == "push"


def test_github_header_names_are_matched_in_any_case() -> None:
    headers = {"x-hub-signature-256": f"sha256={hexmac(BODY)}", "x-github-event": "push"}

    assert check("github", Delivery(headers, BODY), token=TOKEN).event == "push"


def test_github_without_a_signature_is_refused() -> None:
    error = rejected("github", {"X-GitHub-Event": "push"})

    assert error.status == 401
    assert str(error) == "the X-Hub-Signature-256 and X-Hub-Signature headers are missing"


def test_github_wrong_sha256_signature_is_refused_even_with_a_good_sha1() -> None:
    headers = {
        "X-Hub-Signature-256": f"sha256={hexmac(BODY, key=b'x')}",
        "X-Hub-Signature": f"sha1={hexmac(BODY, 'sha1')}",
    }

    assert "X-Hub-Signature-256" in str(rejected("github", headers))


def test_github_ping_is_answered_whatever_spec_events_says() -> None:
    headers = {"X-Hub-Signature-256": f"sha256={hexmac(BODY)}", "X-GitHub-Event": "ping"}

    verdict = check("github", Delivery(headers, BODY), token=TOKEN, events=["push"])

    assert verdict.ping


def test_github_ping_still_needs_a_valid_signature() -> None:
    assert rejected("github", {"X-GitHub-Event": "ping"}).status == 401


def test_an_event_not_in_spec_events_is_skipped_ignoring_case() -> None:
    headers = {"X-Hub-Signature-256": f"sha256={hexmac(BODY)}", "X-GitHub-Event": "issues"}
    delivery = Delivery(headers, BODY)

    assert check("github", delivery, token=TOKEN, events=["push"]).skipped
    assert not check("github", delivery, token=TOKEN, events=["ISSUES"]).skipped
    assert not check("github", delivery, token=TOKEN).skipped


def test_gitlab_compares_its_token_header() -> None:
    headers = {"X-Gitlab-Token": "s3cr3t", "X-Gitlab-Event": "Push Hook"}

    verdict = check("gitlab", Delivery(headers, BODY), token=TOKEN, events=["Push Hook"])

    assert verdict.event == "Push Hook" and not verdict.skipped


def test_gitlab_event_missing_with_events_set_is_skipped() -> None:
    delivery = Delivery({"X-Gitlab-Token": "s3cr3t"}, BODY)

    assert check("gitlab", delivery, token=TOKEN, events=["Push Hook"]).skipped


@pytest.mark.parametrize(
    ("receiver_type", "header"), [("gitlab", "X-Gitlab-Token"), ("harbor", "Authorization")]
)
def test_token_headers_refuse_a_wrong_or_missing_token(receiver_type: str, header: str) -> None:
    assert str(rejected(receiver_type, {})) == f"the {header} header is missing"
    wrong = rejected(receiver_type, {header: "guess"})
    assert wrong.status == 401
    assert str(wrong) == f"the {header} header does not match the Receiver's token"


def test_harbor_accepts_its_token_in_authorization() -> None:
    assert check("harbor", Delivery({"Authorization": "s3cr3t"}, BODY), token=TOKEN).payload


def test_bitbucket_server_checks_x_hub_signature_and_reads_x_event_key() -> None:
    headers = {"X-Hub-Signature": f"sha256={hexmac(BODY)}", "X-Event-Key": "repo:refs_changed"}
    delivery = Delivery(headers, BODY)

    assert not check("bitbucket", delivery, token=TOKEN, events=["repo:refs_changed"]).skipped
    assert check("bitbucket", delivery, token=TOKEN, events=["pr:opened"]).skipped
    assert rejected("bitbucket", {"X-Event-Key": "repo:refs_changed"}).status == 401


def test_nexus_checks_a_bare_hex_hmac_sha1_and_needs_json() -> None:
    headers = {"X-Nexus-Webhook-Signature": hexmac(BODY, "sha1")}

    assert check("nexus", Delivery(headers, BODY), token=TOKEN).payload == {
        "ref": "refs/heads/main"
    }
    assert rejected("nexus", {}).status == 401
    assert rejected("nexus", {"X-Nexus-Webhook-Signature": hexmac(BODY, "sha256")}).status == 401
    signed_text = {"X-Nexus-Webhook-Signature": hexmac(b"text", "sha1")}
    assert rejected("nexus", signed_text, body=b"text").status == 400


@pytest.mark.parametrize("receiver_type", ["dockerhub", "acr", "quay"])
def test_unsigned_registries_need_a_json_object(receiver_type: str) -> None:
    assert check(receiver_type, Delivery({}, b"{}"), token=TOKEN).payload == {}
    error = rejected(receiver_type, {}, body=b"not json")
    assert error.status == 400 and "not JSON" in str(error)
    assert "not a JSON object" in str(rejected(receiver_type, {}, body=b"[1]"))


def test_quay_refuses_mistyped_push_fields() -> None:
    error = rejected("quay", {}, body=json.dumps({"updated_tags": "latest"}).encode())

    assert error.status == 400 and "updated_tags" in str(error)


def test_cdevents_needs_a_cdevent_and_filters_on_ce_type() -> None:
    event = {
        "context": {
            "version": "0.4.1",
            "id": "1",
            "source": "ci",
            "type": "dev.cdevents.artifact.published.0.1.1",
        },
        "subject": {"id": "img", "content": {}},
    }
    headers = {"Ce-Type": "dev.cdevents.artifact.published.0.1.1"}
    delivery = Delivery(headers, json.dumps(event).encode())

    assert not check("cdevents", delivery, token=TOKEN, events=[headers["Ce-Type"]]).skipped
    assert check("cdevents", delivery, token=TOKEN, events=["dev.cdevents.build.queued"]).skipped
    error = rejected("cdevents", headers, body=b'{"context": {"id": "1"}, "subject": {}}')
    assert error.status == 400 and "context.source" in str(error)


def test_gcr_unwraps_the_registry_event_from_the_pubsub_envelope() -> None:
    event = {"action": "INSERT", "digest": "gcr.io/p/app@sha256:ab", "tag": "gcr.io/p/app:1.0"}
    data = base64.b64encode(json.dumps(event).encode()).decode()
    body = json.dumps({"message": {"data": data, "messageId": "1"}}).encode()

    assert check("gcr", Delivery({}, body), token=TOKEN).payload == event
    assert rejected("gcr", {}, body=b'{"message": {}}').status == 400
    assert "base64 JSON" in str(rejected("gcr", {}, body=b'{"message": {"data": "%%"}}'))


def test_an_unknown_type_is_refused_with_400() -> None:
    assert rejected("jenkins", {}).status == 400

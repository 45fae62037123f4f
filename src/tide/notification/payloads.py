"""Check a webhook delivery the way its sender signs it, one rule per ``Receiver`` type.

Pure: a :class:`Delivery` (headers and the whole body) and the Receiver's token in, a
:class:`Verdict` out, or :class:`Rejected` with the HTTP status to answer and a message safe to
show (it names headers, never the token or a signature). Every comparison of a secret or of a
signature is constant-time (``hmac.compare_digest``), so timing tells an attacker nothing.

What each type proves, after the secret webhook path itself:

==============  ==========================================================================
generic         nothing more: knowing the path is the credential
generic-hmac    ``X-Signature: sha1|sha256|sha512=<hex HMAC of the body keyed by token>``
github          ``X-Hub-Signature-256`` (``sha256=``), else ``X-Hub-Signature`` (``sha1=``);
                event in ``X-GitHub-Event``; ``ping`` is answered without a reconcile
gitlab          ``X-Gitlab-Token`` equals the token; event in ``X-Gitlab-Event``
bitbucket       Bitbucket Server's ``X-Hub-Signature`` (``sha256=``); event in ``X-Event-Key``
harbor          ``Authorization`` equals the token
nexus           ``X-Nexus-Webhook-Signature``: hex HMAC-SHA1 of the body; body is JSON
dockerhub, acr  the body is a JSON object (the senders sign nothing)
quay            the body is a JSON object with Quay's push fields, when present, well typed
cdevents        the body is a CDEvent (``context`` with id, source, type, version); event in
                ``Ce-Type``
gcr             Google's OIDC token (checked by the server with
                :class:`~tide.notification.google_oidc.GoogleTokenVerifier`, which needs
                network access to Google); here only the Pub/Sub envelope is unwrapped
==============  ==========================================================================
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Delivery", "Rejected", "Verdict", "check", "sign"]

_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}

_EVENT_HEADERS = {
    "github": "X-GitHub-Event",
    "gitlab": "X-Gitlab-Event",
    "bitbucket": "X-Event-Key",
    "cdevents": "Ce-Type",
}
"""Where each type that filters on ``spec.events`` reads the event name."""


@dataclass(frozen=True)
class Delivery:
    """One webhook request as the checks need it.

    Attributes:
        headers: request headers; looked up case-insensitively (pass aiohttp's
            ``CIMultiDict`` or any mapping; plain dicts are searched ignoring case).
        body: the whole request body, already bounded by the server.
    """

    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        """Return header ``name`` (any case), or "" when absent."""
        value = self.headers.get(name)
        if value is None:
            lowered = name.lower()
            value = next((v for k, v in self.headers.items() if k.lower() == lowered), "")
        return value


@dataclass(frozen=True)
class Verdict:
    """An accepted delivery.

    Attributes:
        event: the sender's event name, for types that carry one (else None).
        ping: a delivery test (GitHub's ``ping``) to answer 200 without reconciling.
        skipped: the event is not in ``spec.events``; answer 200 without reconciling.
        payload: the body decoded as JSON (None when it is not JSON), for ``resourceFilter``.
    """

    event: str | None = None
    ping: bool = False
    skipped: bool = False
    payload: Any = None


class Rejected(Exception):
    """The delivery fails its type's check; ``status`` is the HTTP status to answer.

    401 when the sender could not prove it knows the token (signature or token wrong or
    missing); 400 when the body is not what the type expects.
    """

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def sign(body: bytes, token: str | bytes, *, algorithm: str = "sha256") -> str:
    """Return ``<algorithm>=<hex HMAC>`` of ``body`` keyed by ``token``, as senders send it.

    For tests, benchmarks and users' own scripts that call a ``generic-hmac`` or ``github``
    Receiver.
    """
    key = token.encode() if isinstance(token, str) else token
    return f"{algorithm}={hmac.new(key, body, _HASHES[algorithm]).hexdigest()}"


def check(
    receiver_type: str, delivery: Delivery, *, token: bytes, events: Sequence[str] = ()
) -> Verdict:
    """Check ``delivery`` as a Receiver of ``receiver_type`` with ``token`` and ``events``.

    Raises:
        Rejected: the delivery fails the type's check (see the module's table).
    """
    checker = _CHECKS.get(receiver_type)
    if checker is None:
        raise Rejected(f"Receiver type {receiver_type!r} is not supported", status=400)
    payload = checker(delivery, token)
    event = (
        delivery.header(_EVENT_HEADERS[receiver_type]) if receiver_type in _EVENT_HEADERS else None
    )
    if receiver_type == "github" and event == "ping":
        return Verdict(event=event, ping=True, payload=payload)
    skipped = bool(events) and event is not None and not _listed(event, events)
    return Verdict(event=event, skipped=skipped, payload=payload)


def _listed(event: str, events: Sequence[str]) -> bool:
    """Tell whether ``event`` is in ``events``, ignoring case as Flux does."""
    return any(event.casefold() == wanted.casefold() for wanted in events)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _verify_prefixed(signature: str, body: bytes, token: bytes, *, header: str) -> None:
    """Check ``<algo>=<hex>`` against the body's HMAC with ``algo`` (sha1, sha256, sha512)."""
    if not signature:
        raise Rejected(f"the {header} header is missing")
    algorithm, sep, digest = signature.partition("=")
    hasher = _HASHES.get(algorithm.strip().lower()) if sep else None
    if hasher is None:
        raise Rejected(f"the {header} header is not '<sha1|sha256|sha512>=<hex HMAC>'")
    expected = hmac.new(token, body, hasher).hexdigest()
    if not _same(digest.strip().lower(), expected):
        raise Rejected(f"the {header} header does not match the HMAC of the body")


def _json(delivery: Delivery, sender: str) -> Any:
    try:
        return json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"the {sender} payload is not JSON: {error}", status=400) from error


def _json_object(delivery: Delivery, sender: str) -> dict[str, Any]:
    payload = _json(delivery, sender)
    if not isinstance(payload, dict):
        raise Rejected(f"the {sender} payload is not a JSON object", status=400)
    return payload


def _maybe_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _generic(delivery: Delivery, token: bytes) -> Any:
    return _maybe_json(delivery.body)


def _generic_hmac(delivery: Delivery, token: bytes) -> Any:
    _verify_prefixed(delivery.header("X-Signature"), delivery.body, token, header="X-Signature")
    return _maybe_json(delivery.body)


def _github(delivery: Delivery, token: bytes) -> Any:
    # GitHub sends both; the SHA-256 one is checked when present, as GitHub advises.
    if strong := delivery.header("X-Hub-Signature-256"):
        _verify_prefixed(strong, delivery.body, token, header="X-Hub-Signature-256")
    else:
        signature = delivery.header("X-Hub-Signature")
        if not signature:
            raise Rejected("the X-Hub-Signature-256 and X-Hub-Signature headers are missing")
        _verify_prefixed(signature, delivery.body, token, header="X-Hub-Signature")
    return _maybe_json(delivery.body)


def _bitbucket(delivery: Delivery, token: bytes) -> Any:
    _verify_prefixed(
        delivery.header("X-Hub-Signature"), delivery.body, token, header="X-Hub-Signature"
    )
    return _maybe_json(delivery.body)


def _token_header(header: str) -> Any:
    def check(delivery: Delivery, token: bytes) -> Any:
        given = delivery.header(header)
        if not given:
            raise Rejected(f"the {header} header is missing")
        if not hmac.compare_digest(given.encode(), token):
            raise Rejected(f"the {header} header does not match the Receiver's token")
        return _maybe_json(delivery.body)

    return check


def _nexus(delivery: Delivery, token: bytes) -> Any:
    signature = delivery.header("X-Nexus-Webhook-Signature")
    if not signature:
        raise Rejected("the X-Nexus-Webhook-Signature header is missing")
    expected = hmac.new(token, delivery.body, hashlib.sha1).hexdigest()
    if not _same(signature.strip().lower(), expected):
        raise Rejected("the X-Nexus-Webhook-Signature header does not match the body's HMAC")
    return _json_object(delivery, "Nexus")


def _unsigned(sender: str) -> Any:
    def check(delivery: Delivery, token: bytes) -> Any:
        return _json_object(delivery, sender)

    return check


def _quay(delivery: Delivery, token: bytes) -> Any:
    payload = _json_object(delivery, "Quay")
    tags = payload.get("updated_tags", [])
    url = payload.get("docker_url", "")
    if not isinstance(url, str) or not (
        isinstance(tags, list) and all(isinstance(t, str) for t in tags)
    ):
        raise Rejected(
            "the Quay payload's docker_url must be a string and updated_tags a list of strings",
            status=400,
        )
    return payload


def _cdevents(delivery: Delivery, token: bytes) -> Any:
    payload = _json_object(delivery, "CDEvents")
    context = payload.get("context")
    missing = [
        key
        for key in ("id", "source", "type", "version")
        if not isinstance(context, dict) or not isinstance(context.get(key), str)
    ]
    if missing or not str(context.get("type", "")).startswith("dev.cdevents."):  # type: ignore[union-attr]
        detail = (
            f"context.{', context.'.join(missing)} missing"
            if missing
            else "not a dev.cdevents type"
        )
        raise Rejected(f"the payload is not a CDEvent: {detail}", status=400)
    if not isinstance(payload.get("subject"), dict):
        raise Rejected("the payload is not a CDEvent: subject missing", status=400)
    return payload


def _gcr(delivery: Delivery, token: bytes) -> Any:
    """Unwrap the registry's event from the Pub/Sub envelope (the token is checked apart)."""
    envelope = _json_object(delivery, "GCR")
    message = envelope.get("message")
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, str):
        raise Rejected("the GCR payload has no message.data", status=400)
    try:
        event = json.loads(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError) as error:
        raise Rejected(
            f"the GCR payload's message.data is not base64 JSON: {error}", status=400
        ) from error
    if not isinstance(event, dict):
        raise Rejected("the GCR payload's message.data is not a JSON object", status=400)
    return event


_CHECKS = {
    "generic": _generic,
    "generic-hmac": _generic_hmac,
    "github": _github,
    "gitlab": _token_header("X-Gitlab-Token"),
    "bitbucket": _bitbucket,
    "harbor": _token_header("Authorization"),
    "dockerhub": _unsigned("DockerHub"),
    "acr": _unsigned("ACR"),
    "quay": _quay,
    "nexus": _nexus,
    "cdevents": _cdevents,
    "gcr": _gcr,
}

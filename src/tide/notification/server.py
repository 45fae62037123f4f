"""Serve Receivers' webhooks on ``--receiver-addr`` (Flux's ``:9292``): ``POST /hook/<digest>``.

A delivery is answered, in this order:

- 405 for any method but POST; 404 for a path no Receiver publishes (looked up in the
  :class:`WebhookIndex`, kept from the watch cache), or one derived from a token the Secret no
  longer holds (a rotation retires the old path at once, before the status catches up);
- 503 while the Receiver is suspended or not Ready (its Secret missing, its spec stalled);
- 413 for a body over ``max_body`` bytes (3 MiB, Flux's bound), read in chunks and dropped as
  soon as it is too long, never buffered whole;
- 401 (signature or token wrong or missing) or 400 (body malformed for the type), with a
  Warning event ``WebhookRejected`` on the Receiver, and nothing asked to reconcile (503 when
  a ``gcr`` delivery cannot be checked because Google's keys are out of reach);
- 200 without asking anything for GitHub's ``ping`` and for an event not in ``spec.events``;
- otherwise every selected resource gets ``reconcile.fluxcd.io/requestedAt``, a Normal event
  ``ReconcileRequested`` lists them, and the answer is 200 — or 500 when some could not be
  asked (a Warning event ``ReconcileRequestFailed`` names them), as Flux answers.

Every replica serves, as Flux's notification-controller does: the lookup reads the watch
cache (warm on standbys too) and the annotation patch is idempotent, so a load balancer may
send deliveries to any Pod, leader or not.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from tide.api import conditions, reasons
from tide.api.notification import Receiver
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.notification import payloads, targets
from tide.notification.google_oidc import GoogleTokenVerifier
from tide.notification.index import WebhookIndex
from tide.notification.receiver import WEBHOOK_PREFIX, read_secret, webhook_path
from tide.notification.resource_filter import FilterError, ResourceFilter
from tide.runtime.acl import ReferencePolicy
from tide.runtime.events import EventRecorder
from tide.runtime.servers import Endpoint, listen
from tide.runtime.steps import StepFailed

__all__ = ["MAX_BODY", "ReceiverServer"]

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
"""Largest delivery body accepted, in bytes (Flux's bound)."""
_CHUNK = 64 * 1024


class _TooLarge(Exception):
    pass


class ReceiverServer:
    """The webhook server.

    Args:
        client: reads token Secrets, annotates resources.
        cache: the Receiver watch cache (``index`` must already follow it).
        index: webhook path → Receiver.
        recorder: records events on Receivers.
        endpoint: where to listen (port 0 picks a free one).
        policy: which namespaces ``spec.resources`` may reach.
        max_body: largest body accepted, in bytes (default :data:`MAX_BODY`).
        google: checks ``gcr`` deliveries' ID tokens (default: against Google's keys).
    """

    def __init__(
        self,
        client: KubeClient,
        *,
        cache: WatchCache,
        index: WebhookIndex,
        recorder: EventRecorder,
        endpoint: Endpoint,
        policy: ReferencePolicy | None = None,
        max_body: int = MAX_BODY,
        google: GoogleTokenVerifier | None = None,
    ) -> None:
        self._client = client
        self._cache = cache
        self._index = index
        self._recorder = recorder
        self._endpoint = endpoint
        self._policy = policy or ReferencePolicy()
        self._max_body = max_body
        self._google = google or GoogleTokenVerifier()
        self._runner: web.AppRunner | None = None
        self.port = endpoint.port
        """The bound port (differs from the requested one when that was 0)."""

    async def start(self) -> None:
        """Start serving.

        Raises:
            CannotListen: the address is taken (the message says "for receivers").
        """
        app = web.Application(client_max_size=self._max_body)
        app.router.add_route("*", WEBHOOK_PREFIX + "{digest}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = await listen(self._runner, self._endpoint, what="receivers")

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return _answer(405, "only POST is accepted", headers={"Allow": "POST"})
        key = self._index.lookup(request.path)
        obj = self._cache.get(*key) if key else None
        if obj is None:
            return _answer(404, "no Receiver serves this path")
        try:
            receiver = Receiver.model_validate(obj)
        except ValidationError:
            return _answer(503, "the Receiver's spec is invalid")
        if receiver.spec.suspend:
            return _answer(503, "the Receiver is suspended")
        if not conditions.is_true(obj.get("status") or {}, reasons.READY):
            return _answer(503, "the Receiver is not ready")
        try:
            body = await self._read_body(request)
        except _TooLarge:
            return _answer(413, f"the body exceeds {self._max_body} bytes")
        namespace, name = key  # type: ignore[misc]
        try:
            secret = await read_secret(self._client, namespace, receiver.spec.secret_ref.name)
        except (StepFailed, KubeError) as error:
            log.warning("Receiver %s/%s: cannot read its token: %s", namespace, name, error)
            return _answer(503, "the Receiver's token cannot be read")
        if webhook_path(secret["token"], name, namespace) != request.path:
            return _answer(404, "no Receiver serves this path")  # the token was rotated
        return await self._deliver(obj, receiver, request, body, secret)

    async def _deliver(
        self,
        obj: dict[str, Any],
        receiver: Receiver,
        request: web.Request,
        body: bytes,
        secret: dict[str, bytes],
    ) -> web.StreamResponse:
        spec = receiver.spec
        delivery = payloads.Delivery(request.headers, body)
        try:
            if spec.type == "gcr":
                await self._google.verify(
                    delivery.header("Authorization"),
                    audience=secret.get("audience", b"").decode(errors="replace"),
                    email=secret.get("email", b"").decode(errors="replace"),
                )
            verdict = payloads.check(
                spec.type, delivery, token=secret["token"], events=spec.events or ()
            )
        except payloads.Rejected as error:
            await self._event(obj, "Warning", reasons.WEBHOOK_REJECTED, f"{spec.type}: {error}")
            return _answer(error.status, str(error))
        if verdict.ping:
            return _answer(200, "pong")
        if verdict.skipped:
            log.info("Receiver %s: event %r is not in spec.events", _name(obj), verdict.event)
            return _answer(200, f"event {verdict.event!r} is not in spec.events; nothing to do")
        try:
            resource_filter = ResourceFilter(spec.resource_filter) if spec.resource_filter else None
        except FilterError as error:  # the reconcile stalls on it; reached only in a race
            return _answer(503, str(error))
        outcome = await targets.request_reconciles(
            self._client,
            spec.resources,
            receiver_namespace=receiver.metadata.namespace or "default",
            policy=self._policy,
            resource_filter=resource_filter,
            payload=verdict.payload,
        )
        what = f" ({spec.type} event {verdict.event!r})" if verdict.event else ""
        if outcome.requested:
            message = f"Reconciliation requested for {', '.join(outcome.requested)}{what}"
            await self._event(obj, "Normal", reasons.RECONCILE_REQUESTED, message)
        if outcome.failures:
            message = f"Could not request reconciliation{what}: {'; '.join(outcome.failures)}"
            await self._event(obj, "Warning", reasons.RECONCILE_REQUEST_FAILED, message)
            return _answer(500, message)
        return _answer(200, f"{len(outcome.requested)} object(s) asked to reconcile")

    async def _read_body(self, request: web.Request) -> bytes:
        """Read the body, giving up as soon as it is longer than ``max_body``."""
        if request.content_length is not None and request.content_length > self._max_body:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self._max_body:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _event(self, obj: dict[str, Any], type_: Any, reason: str, message: str) -> None:
        log.info("Receiver %s: %s: %s", _name(obj), reason, message)
        await self._recorder.record(obj, type=type_, reason=reason, message=message)


def _answer(status: int, text: str, *, headers: dict[str, str] | None = None) -> web.Response:
    response = web.Response(status=status, text=text + "\n", headers=headers)
    if status == 413:
        response.force_close()  # the rest of the body is not read; do not reuse the connection
    return response


def _name(obj: dict[str, Any]) -> str:
    metadata = obj["metadata"]
    return f"{metadata.get('namespace')}/{metadata['name']}"

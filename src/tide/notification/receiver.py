"""Receiver reconcile: read the token Secret and publish the webhook path derived from it.

The path is ``/hook/`` + hex SHA-256 of token + name + namespace, as Flux computes it, so a
webhook registered at a Git host for a Flux Receiver keeps working when Tide takes over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from tide.api import reasons
from tide.api.notification import Receiver
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.steps import Outcome, Progress, StepFailed, Succeeded, parse_object

__all__ = ["WEBHOOK_PREFIX", "ReceiverPipeline", "webhook_path"]

WEBHOOK_PREFIX = "/hook/"


def webhook_path(token: str | bytes, name: str, namespace: str) -> str:
    """Return the path a Receiver listens on for ``token`` (its raw bytes, as Flux hashes them)."""
    raw = token.encode() if isinstance(token, str) else token
    digest = hashlib.sha256(raw + name.encode() + namespace.encode()).hexdigest()
    return f"{WEBHOOK_PREFIX}{digest}"


class ReceiverPipeline:
    """Steps of a Receiver reconcile: parse the spec, read the token, publish the path."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Publish ``status.webhookPath`` for the token in ``spec.secretRef``."""
        receiver = parse_object(Receiver, obj)
        namespace = receiver.metadata.namespace or "default"
        try:
            token = await self._token(namespace, receiver.spec.secret_ref.name)
        except StepFailed:
            status.pop("webhookPath", None)  # a path whose token is gone must not be advertised
            raise
        path = webhook_path(token, receiver.metadata.name, namespace)
        status["webhookPath"] = path
        return Succeeded(reason=reasons.SUCCEEDED, message=f"Receiver initialized for path: {path}")

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Nothing to clean up: a Receiver owns no other objects."""

    async def _token(self, namespace: str, name: str) -> bytes:
        secret = await self._client.get_or_none(resources.SECRET, name, namespace=namespace)
        where = f"Secret '{namespace}/{name}' (spec.secretRef)"
        if secret is None:
            raise StepFailed(f"{where} not found", reason=reasons.TOKEN_NOT_FOUND)
        encoded = (secret.get("data") or {}).get("token")
        if not encoded:
            raise StepFailed(f"{where} has no 'token' key", reason=reasons.TOKEN_NOT_FOUND)
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            # The message names the key, never the value: secrets stay out of status and events.
            raise StepFailed(
                f"{where}: key 'token' is not valid base64", reason=reasons.TOKEN_NOT_FOUND
            ) from error

"""Receiver reconcile: read the token Secret and publish the webhook path derived from it.

The path is ``/hook/`` + hex SHA-256 of token + name + namespace, as Flux computes it, so a
webhook registered at a Git host for a Flux Receiver keeps working when Tide takes over.

Besides the path, the reconcile checks what the server would otherwise only find out at the
first delivery: that ``spec.resourceFilter`` compiles (``InvalidCELExpression``), and that every
``spec.resources`` entry names a kind Tide serves and a namespace it may reach
(``AccessDenied`` under ``--no-cross-namespace-refs``). Each stalls the Receiver until its
spec changes; the server answers 503 while the Receiver is not Ready.
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
from tide.notification import targets
from tide.notification.resource_filter import FilterError, ResourceFilter
from tide.runtime.acl import AccessDenied, ReferencePolicy
from tide.runtime.steps import Outcome, Progress, Stalled, StepFailed, Succeeded, parse_object

__all__ = ["WEBHOOK_PREFIX", "ReceiverPipeline", "read_secret", "read_token", "webhook_path"]

WEBHOOK_PREFIX = "/hook/"


def webhook_path(token: str | bytes, name: str, namespace: str) -> str:
    """Return the path a Receiver listens on for ``token`` (its raw bytes, as Flux hashes them)."""
    raw = token.encode() if isinstance(token, str) else token
    digest = hashlib.sha256(raw + name.encode() + namespace.encode()).hexdigest()
    return f"{WEBHOOK_PREFIX}{digest}"


async def read_secret(client: KubeClient, namespace: str, name: str) -> dict[str, bytes]:
    """Return the decoded data of a Receiver's Secret ``namespace/name``, ``token`` included.

    Besides ``token``, a ``gcr`` Receiver reads ``audience`` and ``email`` from it.

    Raises:
        StepFailed: (``TokenNotFound``) the Secret or its ``token`` key is missing, or a key is
            not base64; the message names the key, never the value.
    """
    secret = await client.get_or_none(resources.SECRET, name, namespace=namespace)
    where = f"Secret '{namespace}/{name}' (spec.secretRef)"
    if secret is None:
        raise StepFailed(f"{where} not found", reason=reasons.TOKEN_NOT_FOUND)
    decoded: dict[str, bytes] = {}
    for key, encoded in (secret.get("data") or {}).items():
        try:
            decoded[key] = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise StepFailed(
                f"{where}: key '{key}' is not valid base64", reason=reasons.TOKEN_NOT_FOUND
            ) from error
    if not decoded.get("token"):
        raise StepFailed(f"{where} has no 'token' key", reason=reasons.TOKEN_NOT_FOUND)
    return decoded


async def read_token(client: KubeClient, namespace: str, name: str) -> bytes:
    """Return the ``token`` key of Secret ``namespace/name`` (see :func:`read_secret`)."""
    return (await read_secret(client, namespace, name))["token"]


class ReceiverPipeline:
    """Steps of a Receiver reconcile: parse and check the spec, read the token, publish the path.

    Args:
        client: the API client.
        policy: which namespaces ``spec.resources`` may reach.
    """

    def __init__(self, client: KubeClient, *, policy: ReferencePolicy | None = None) -> None:
        self._client = client
        self._policy = policy or ReferencePolicy()

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Publish ``status.webhookPath`` for the token in ``spec.secretRef``."""
        receiver = parse_object(Receiver, obj)
        namespace = receiver.metadata.namespace or "default"
        try:
            self._check_spec(receiver, namespace)
            token = await read_token(self._client, namespace, receiver.spec.secret_ref.name)
        except (StepFailed, Stalled):
            status.pop("webhookPath", None)  # a path whose token is gone must not be advertised
            raise
        path = webhook_path(token, receiver.metadata.name, namespace)
        status["webhookPath"] = path
        return Succeeded(reason=reasons.SUCCEEDED, message=f"Receiver initialized for path: {path}")

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Nothing to clean up: a Receiver owns no other objects."""

    def _check_spec(self, receiver: Receiver, namespace: str) -> None:
        spec = receiver.spec
        if spec.resource_filter:
            try:
                ResourceFilter(spec.resource_filter)
            except FilterError as error:
                raise Stalled(
                    f"spec.resourceFilter: {error}", reason=reasons.INVALID_CEL_EXPRESSION
                ) from error
        for index, ref in enumerate(spec.resources):
            target = ref.namespace or namespace
            if not self._policy.allows(namespace, target):
                raise AccessDenied(ref.kind, target, ref.name)
            try:
                targets.check_reference(ref, namespace, self._policy)
            except ValueError as error:
                raise Stalled(
                    f"spec.resources[{index}]: {error}", reason=reasons.INVALID_CONFIG
                ) from error

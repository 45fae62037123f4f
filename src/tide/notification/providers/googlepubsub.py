"""``googlepubsub``: Flux's event JSON published on a Pub/Sub topic with Google's client.

The address is the GCP project ID and the channel the topic ID; the Secret's ``token``, when
set, holds service-account JSON credentials, else Application Default Credentials apply
(workload identity and the like). The Secret's ``headers`` become the message's attributes,
as Flux documents. When ``PUBSUB_EMULATOR_HOST`` is set — Google's own convention — the client
talks plain gRPC to that host with anonymous credentials, as the official libraries do.

Uses the generated asyncio client (``PublisherAsyncClient``) rather than the batching
``PublisherClient``: one awaited call per event reports that event's outcome, and the library's
own retries are off, so the dispatcher's backoff is the only one.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from tide.notification.providers._http import require
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings, SendFailed

__all__ = ["GooglePubSubNotifier"]

_PROJECT = re.compile(r"^[a-z][a-z0-9.:-]{4,62}[a-z0-9]$")
_TOPIC = re.compile(r"^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$")
_SCOPES = ["https://www.googleapis.com/auth/pubsub"]
_RETRYABLE = (
    "Aborted",
    "DeadlineExceeded",
    "InternalServerError",
    "ResourceExhausted",
    "ServiceUnavailable",
    "Unknown",
)


class GooglePubSubNotifier:
    """Publish each event to ``projects/<address>/topics/<channel>``."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        project = require(settings, "address")
        topic = require(settings, "channel")
        if not _PROJECT.match(project):
            raise InvalidProvider(
                f"Provider '{settings.name}': address must be a GCP project ID for type "
                "'googlepubsub'"
            )
        if not _TOPIC.match(topic) or topic.startswith("goog"):
            raise InvalidProvider(f"Provider '{settings.name}': channel must be a Pub/Sub topic ID")
        self.topic = f"projects/{project}/topics/{topic}"
        self.credentials_info: dict[str, Any] | None = None
        if settings.token:
            try:
                self.credentials_info = json.loads(settings.token)
            except ValueError as error:
                raise InvalidProvider(
                    f"Provider '{settings.name}': token must be JSON service-account "
                    "credentials for type 'googlepubsub'"
                ) from error
        self._client: Any = None

    def _make_client(self) -> Any:
        # Imported here: the Google libraries take a second to import, and only this type uses them.
        import grpc
        from google.auth.credentials import AnonymousCredentials
        from google.oauth2 import service_account
        from google.pubsub_v1 import PublisherAsyncClient
        from google.pubsub_v1.services.publisher.transports import PublisherGrpcAsyncIOTransport

        if emulator := os.environ.get("PUBSUB_EMULATOR_HOST"):
            transport = PublisherGrpcAsyncIOTransport(
                channel=grpc.aio.insecure_channel(emulator), credentials=AnonymousCredentials()
            )
            return PublisherAsyncClient(transport=transport)
        if self.credentials_info is not None:
            try:
                credentials = service_account.Credentials.from_service_account_info(
                    self.credentials_info, scopes=_SCOPES
                )
            except (ValueError, KeyError) as error:
                raise SendFailed(
                    f"Provider '{self.settings.name}' (googlepubsub): the token is not valid "
                    f"service-account credentials: {type(error).__name__}",
                    retryable=False,
                ) from error
            return PublisherAsyncClient(credentials=credentials)
        return PublisherAsyncClient()

    async def post(self, event: Event) -> None:
        """Publish ``event``; the call returns once Pub/Sub has stored the message."""
        from google.api_core import exceptions
        from google.pubsub_v1 import PubsubMessage

        if self._client is None:
            try:
                self._client = self._make_client()
            except exceptions.GoogleAPIError as error:  # no default credentials, and the like
                raise self._failed(error) from error
        message = PubsubMessage(
            data=json.dumps(event.to_json(), separators=(",", ":")).encode(),
            attributes=dict(self.settings.headers),
        )
        try:
            await self._client.publish(
                topic=self.topic, messages=[message], retry=None, timeout=self.settings.timeout
            )
        except exceptions.GoogleAPIError as error:
            raise self._failed(error) from error

    def _failed(self, error: Exception) -> SendFailed:
        kind = type(error).__name__
        detail = getattr(error, "message", "") or ""
        return SendFailed(
            f"Provider '{self.settings.name}' (googlepubsub): publishing to {self.topic} failed: "
            f"{kind}{': ' + detail if detail else ''}",
            retryable=kind in _RETRYABLE or kind == "DefaultCredentialsError",
        )

    async def aclose(self) -> None:
        """Close the gRPC channel, if one was opened."""
        if self._client is not None:
            await self._client.transport.close()

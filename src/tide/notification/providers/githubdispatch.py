"""``githubdispatch``: a ``repository_dispatch`` event that can start a GitHub Actions workflow.

``event_type`` is ``<Kind>/<name>.<namespace>`` (what a workflow's ``on.repository_dispatch.
types`` lists) and ``client_payload`` is Flux's event JSON. The API root is derived from the
repository address as for ``github``. GitHub App credentials (``githubAppID`` ...) are not read:
the token must be a personal access token or an installation token.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._git import parse_repository
from tide.notification.providers._http import HttpNotifier, require
from tide.notification.providers.base import Event, ProviderSettings
from tide.notification.providers.github import api_base, github_headers, owner_and_repo

__all__ = ["GitHubDispatchNotifier", "dispatch_payload"]


def dispatch_payload(event: Event) -> dict[str, Any]:
    """Return the ``repository_dispatch`` body for ``event``."""
    obj = event.involved_object
    return {
        "event_type": f"{obj.kind}/{obj.name}.{obj.namespace}",
        "client_payload": event.to_json(),
    }


class GitHubDispatchNotifier(HttpNotifier):
    """POST ``/repos/<owner>/<repo>/dispatches`` for each event."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings)
        self.url = f"{api_base(repository)}/repos/{owner_and_repo(settings, repository)}/dispatches"
        self.token = require(settings, "token")
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as a dispatch."""
        await self.send(
            "POST", self.url, json=dispatch_payload(event), headers=github_headers(self.token)
        )

"""``gitea``: a commit status through Gitea's API (``POST /api/v1/repos/<o>/<r>/statuses/<sha>``).

Authenticated with ``Authorization: token <token>``; states ``success`` and ``failure``; the
``context`` is the status identity. Forgejo serves the same API.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._git import CommitStatusNotifier, parse_repository
from tide.notification.providers._http import require
from tide.notification.providers.base import Event, ProviderSettings
from tide.notification.providers.github import owner_and_repo

__all__ = ["GiteaNotifier"]


class GiteaNotifier(CommitStatusNotifier):
    """Set a commit status on a Gitea repository."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings)
        slug = owner_and_repo(settings, repository)
        self.url = f"{repository.origin}/api/v1/repos/{slug}/statuses"
        self.auth_headers = {"Authorization": f"token {require(settings, 'token')}"}
        super().__init__(settings, repository)

    def status_url(self, sha: str) -> str:
        """Return ``/api/v1/repos/<owner>/<repo>/statuses/<sha>``."""
        return f"{self.url}/{sha}"

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return a ``success``/``failure`` status under ``context``."""
        return {
            "state": "failure" if event.severity == "error" else "success",
            "context": identity,
            "description": description,
        }

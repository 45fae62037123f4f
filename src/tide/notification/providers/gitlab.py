"""``gitlab``: a commit status through the v4 API (``POST /projects/<id>/statuses/<sha>``).

The project is the address's path (``group/subgroup/project``, URL-encoded as the API wants)
or a numeric project ID (``https://gitlab.com/1234``). States are ``success`` and ``failed``;
the status ``name`` is the status identity. GitLab refuses to post the state a status already
has ("Cannot transition status"); that answer means the status is already right, as Flux
treats it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tide.notification.providers._git import CommitStatusNotifier, parse_repository
from tide.notification.providers._http import require
from tide.notification.providers.base import Event, ProviderSettings, SendFailed

__all__ = ["GitLabNotifier"]


class GitLabNotifier(CommitStatusNotifier):
    """Set a commit status on a GitLab project."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings, min_segments=1)
        project = quote(repository.path, safe="")
        self.url = f"{repository.origin}/api/v4/projects/{project}/statuses"
        self.auth_headers = {"PRIVATE-TOKEN": require(settings, "token")}
        super().__init__(settings, repository)

    def status_url(self, sha: str) -> str:
        """Return ``/api/v4/projects/<project>/statuses/<sha>``."""
        return f"{self.url}/{sha}"

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return a ``success``/``failed`` status under ``name``."""
        return {
            "state": "failed" if event.severity == "error" else "success",
            "name": identity,
            "description": description,
        }

    async def post_status(self, sha: str, body: dict[str, Any]) -> None:
        """Post ``body``, taking GitLab's "already in that state" as done."""
        try:
            await super().post_status(sha, body)
        except SendFailed as failure:
            if "Cannot transition status" not in str(failure):
                raise

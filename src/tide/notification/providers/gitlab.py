"""``gitlab``: a commit status through the v4 API (``POST /projects/<id>/statuses/<sha>``).

The project is the address's path (``group/subgroup/project``, URL-encoded as the API wants)
or a numeric project ID (``https://gitlab.com/1234``). States are ``success`` and ``failed``;
the status ``name`` is the status identity. GitLab refuses to post the state a status already
has ("Cannot transition status"); that answer means the status is already right, as Flux
treats it.
"""

from __future__ import annotations

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
        self.token = require(settings, "token")
        super().__init__(settings, repository)

    async def post_status(self, event: Event, *, sha: str, identity: str, description: str) -> None:
        """Create the status, accepting GitLab's "already in that state"."""
        try:
            await self.send(
                "POST",
                f"{self.url}/{sha}",
                json={
                    "state": "failed" if event.severity == "error" else "success",
                    "name": identity,
                    "description": description,
                },
                headers={"PRIVATE-TOKEN": self.token},
            )
        except SendFailed as failure:
            if "Cannot transition status" not in str(failure):
                raise

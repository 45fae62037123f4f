"""``github``: a commit status through the REST API (``POST /repos/<o>/<r>/statuses/<sha>``).

The API is ``https://api.github.com`` for github.com and ``<origin>/api/v3`` for GitHub
Enterprise Server, derived from the repository address as Flux does. The state is ``success``
for info and ``failure`` for error; the context is the status identity (see ``_git``).
"""

from __future__ import annotations

from tide.notification.providers._git import CommitStatusNotifier, Repository, parse_repository
from tide.notification.providers._http import require
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings

__all__ = ["GitHubNotifier", "api_base", "github_headers", "owner_and_repo"]


def api_base(repository: Repository) -> str:
    """Return the REST API root for the repository's host."""
    if repository.host == "github.com":
        return "https://api.github.com"
    return f"{repository.origin}/api/v3"


def owner_and_repo(settings: ProviderSettings, repository: Repository) -> str:
    """Return ``owner/repo``; GitHub has no deeper paths."""
    if len(repository.segments) != 2:
        raise InvalidProvider(
            f"Provider '{settings.name}': address must be https://<host>/<owner>/<repository> "
            f"for type '{settings.type}'"
        )
    return repository.path


def github_headers(token: str) -> dict[str, str]:
    """Return the headers every GitHub API call carries."""
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


class GitHubNotifier(CommitStatusNotifier):
    """Set a commit status on a GitHub repository."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings)
        self.slug = owner_and_repo(settings, repository)
        self.api = api_base(repository)
        self.token = require(settings, "token")
        super().__init__(settings, repository)

    async def post_status(self, event: Event, *, sha: str, identity: str, description: str) -> None:
        """Create the status."""
        await self.send(
            "POST",
            f"{self.api}/repos/{self.slug}/statuses/{sha}",
            json={
                "state": "failure" if event.severity == "error" else "success",
                "context": identity,
                "description": description,
            },
            headers=github_headers(self.token),
        )

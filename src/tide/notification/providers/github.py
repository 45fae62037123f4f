"""``github``: a commit status through the REST API (``POST /repos/<o>/<r>/statuses/<sha>``).

The API is ``https://api.github.com`` for github.com and ``<origin>/api/v3`` for GitHub
Enterprise Server, derived from the repository address as Flux does. The state is ``success``
for info and ``failure`` for error; the context is the status identity (see ``_git``).

As Flux does, the commit's statuses are read first and nothing is posted when the latest one
with that context already has the same state and description: a Kustomization reconciling
every few minutes would otherwise pile up identical statuses (GitHub keeps 1000 per context).
"""

from __future__ import annotations

from typing import Any

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
        self.auth_headers = github_headers(require(settings, "token"))
        super().__init__(settings, repository)

    def status_url(self, sha: str) -> str:
        """Return ``/repos/<owner>/<repo>/statuses/<sha>``."""
        return f"{self.api}/repos/{self.slug}/statuses/{sha}"

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return a ``success``/``failure`` status under ``context``."""
        return {
            "state": "failure" if event.severity == "error" else "success",
            "context": identity,
            "description": description,
        }

    async def post_status(self, sha: str, body: dict[str, Any]) -> None:
        """Post ``body`` unless the commit's latest status with its context says the same."""
        existing = await self.send(
            "GET", f"{self.api}/repos/{self.slug}/commits/{sha}/statuses", headers=self.auth_headers
        )
        if _latest(existing.json(), body["context"]) != body:
            await super().post_status(sha, body)


def _latest(statuses: Any, context: str) -> dict[str, Any] | None:
    """Return the newest status with ``context`` (GitHub lists newest first), trimmed."""
    for status in statuses if isinstance(statuses, list) else []:
        if isinstance(status, dict) and status.get("context") == context:
            return {key: status.get(key) for key in ("state", "context", "description")}
    return None

"""``azuredevops``: a Git commit status through the Azure DevOps REST API.

The address is the repository URL ``https://dev.azure.com/<org>/<project>/_git/<repo>`` (or
``https://<org>.visualstudio.com/<project>/_git/<repo>``); the status goes to ``<origin>/<org>/
<project>/_apis/git/repositories/<repo>/commits/<sha>/statuses?api-version=6.0`` with the
personal access token as basic auth. States are ``succeeded`` and ``failed``; the context is
genre ``fluxcd`` and the status identity as name, as Flux posts it.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._git import CommitStatusNotifier, parse_repository
from tide.notification.providers._http import require
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings

__all__ = ["AzureDevOpsNotifier"]

API_VERSION = "6.0"


class AzureDevOpsNotifier(CommitStatusNotifier):
    """Set a commit status on an Azure DevOps Git repository."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings, min_segments=3)
        segments = repository.segments
        if "_git" not in segments or segments.index("_git") != len(segments) - 2:
            raise InvalidProvider(
                f"Provider '{settings.name}': address must be "
                "https://dev.azure.com/<organization>/<project>/_git/<repository> "
                "for type 'azuredevops'"
            )
        at = segments.index("_git")
        prefix = "/".join(segments[:at])
        repo = segments[at + 1]
        self.url = f"{repository.origin}/{prefix}/_apis/git/repositories/{repo}/commits"
        self.auth = ("", require(settings, "token"))
        super().__init__(settings, repository)

    def status_url(self, sha: str) -> str:
        """Return ``…/_apis/git/repositories/<repo>/commits/<sha>/statuses?api-version=6.0``."""
        return f"{self.url}/{sha}/statuses?api-version={API_VERSION}"

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return a ``succeeded``/``failed`` status with genre ``fluxcd``."""
        return {
            "state": "failed" if event.severity == "error" else "succeeded",
            "description": description,
            "context": {"genre": "fluxcd", "name": identity},
        }

"""``bitbucket`` (Cloud) and ``bitbucketserver`` (Server / Data Center): build statuses.

Both key a status by the hex SHA-1 of the status identity (Bitbucket caps keys at 40
characters) and name it with the identity itself; states are ``SUCCESSFUL`` and ``FAILED``.

- ``bitbucket``: ``POST /2.0/repositories/<workspace>/<repo>/commit/<sha>/statuses/build`` on
  ``https://api.bitbucket.org`` (for another host, ``<origin>/2.0``), with basic auth from a
  token of the form ``<username>:<app password>``.
- ``bitbucketserver``: the address is the HTTPS clone URL ``https://<host>[/<context>]/scm/
  <project>/<repo>.git``; ``POST <origin>[/<context>]/rest/api/1.0/projects/<project>/repos/
  <repo>/commits/<sha>/builds`` with a bearer HTTP access token, or basic auth from username
  and password.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tide.notification.providers._git import CommitStatusNotifier, Repository, parse_repository
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings
from tide.notification.providers.github import owner_and_repo

__all__ = ["BitbucketNotifier", "BitbucketServerNotifier", "status_key"]


def status_key(identity: str) -> str:
    """Return the Bitbucket status key for ``identity``: its hex SHA-1."""
    return hashlib.sha1(identity.encode()).hexdigest()  # an identifier, not a safeguard


def _build_status(event: Event, *, identity: str, description: str, url: str) -> dict[str, Any]:
    return {
        "state": "FAILED" if event.severity == "error" else "SUCCESSFUL",
        "key": status_key(identity),
        "name": identity,
        "description": description,
        "url": url,
    }


class BitbucketNotifier(CommitStatusNotifier):
    """Set a build status on a Bitbucket Cloud repository."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings)
        slug = owner_and_repo(settings, repository)
        username, _, password = settings.token.partition(":")
        if not username or not password:
            raise InvalidProvider(
                f"Provider '{settings.name}': type 'bitbucket' requires a token of the form "
                "<username>:<app password>"
            )
        self.auth = (username, password)
        api = (
            "https://api.bitbucket.org" if repository.host == "bitbucket.org" else repository.origin
        )
        self.url = f"{api}/2.0/repositories/{slug}/commit"
        self.web = f"{repository.origin}/{slug}"
        super().__init__(settings, repository)

    def status_url(self, sha: str) -> str:
        """Return ``/2.0/repositories/<workspace>/<repo>/commit/<sha>/statuses/build``."""
        return f"{self.url}/{sha}/statuses/build"

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return the build status, linking to the repository."""
        return _build_status(event, identity=identity, description=description, url=self.web)


def _server_api(settings: ProviderSettings, repository: Repository) -> str:
    segments = repository.segments
    if "scm" not in segments or len(segments) - segments.index("scm") != 3:
        raise InvalidProvider(
            f"Provider '{settings.name}': address must be the HTTPS clone URL "
            "https://<host>/scm/<project>/<repository>.git for type 'bitbucketserver'"
        )
    at = segments.index("scm")
    context = "".join(f"/{part}" for part in segments[:at])
    project, repo = segments[at + 1], segments[at + 2]
    return f"{repository.origin}{context}/rest/api/1.0/projects/{project}/repos/{repo}/commits"


class BitbucketServerNotifier(CommitStatusNotifier):
    """Set a build status on a Bitbucket Server / Data Center repository."""

    def __init__(self, settings: ProviderSettings) -> None:
        repository = parse_repository(settings, min_segments=3)
        if not settings.address.startswith(("https://", "http://")):
            raise InvalidProvider(
                f"Provider '{settings.name}': type 'bitbucketserver' needs the HTTPS clone URL "
                "(SSH addresses are not supported)"
            )
        self.url = _server_api(settings, repository)
        if settings.token:
            self.auth_headers = {"Authorization": f"Bearer {settings.token}"}
        elif settings.username and settings.password:
            self.auth = (settings.username, settings.password)
        else:
            raise InvalidProvider(
                f"Provider '{settings.name}': type 'bitbucketserver' requires a token, or a "
                "username and password"
            )
        super().__init__(settings, repository)

    def status_url(self, sha: str) -> str:
        """Return ``…/rest/api/1.0/projects/<project>/repos/<repo>/commits/<sha>/builds``."""
        return f"{self.url}/{sha}/builds"

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return the build status, linking to the server."""
        return _build_status(
            event, identity=identity, description=description, url=self.repository.origin
        )

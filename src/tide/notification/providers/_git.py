"""What the Git-host types share: the repository address, the commit, the status identity.

- The address is the repository's URL (``https://host/owner/repo[.git]``, ``ssh://`` or
  ``git@host:owner/repo``); SSH becomes HTTPS, the ``.git`` suffix goes, as Flux reads it.
- The commit comes from the event's ``revision`` metadata: ``<ref>@sha1:<hex>`` (Flux v2),
  the legacy ``<branch>/<hex>``, or a bare hash.
- The status identity (GitHub ``context``, GitLab ``name``, Bitbucket ``key``...) is
  ``<kind>/<name>/<first segment of the Provider's UID>``, lower-cased, so two clusters posting
  on one commit do not overwrite each other — or, with ``spec.commitStatusExpr``, the string
  that CEL expression returns. It sees ``event`` (Flux's event JSON), ``provider`` (the
  Provider's ``apiVersion``, ``kind``, ``metadata`` and ``spec.type``/``channel``) and
  ``alert`` (empty here: a Notifier serves every Alert that names its Provider).
- The description is the reason in words (``ReconciliationSucceeded`` → ``reconciliation
  succeeded``), as Flux writes it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_encoders, ext_strings

from tide.notification.providers._http import HttpNotifier
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings, SendFailed

__all__ = [
    "CommitStatusNotifier",
    "Repository",
    "StatusIdentity",
    "commit_sha",
    "describe_reason",
    "parse_repository",
]

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")
_HASH = re.compile(r"^[0-9a-fA-F]{7,64}$")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@dataclass(frozen=True)
class Repository:
    """A repository on a Git host, as a commit-status type addresses it."""

    origin: str
    """``<scheme>://<host>[:port]``, the web address of the host."""
    host: str
    """Host name without port."""
    path: str
    """``owner/repo`` (GitLab: ``group/subgroup/project``; Azure: ``org/project/_git/repo``)."""

    @property
    def segments(self) -> list[str]:
        return self.path.split("/")


def parse_repository(settings: ProviderSettings, *, min_segments: int = 2) -> Repository:
    """Read ``settings.address`` as a repository URL with at least ``min_segments`` parts."""
    raw = settings.address.strip()
    scheme, rest = raw.split("://", 1) if "://" in raw else ("", raw)
    if scheme:
        authority, _, path = rest.partition("/")
        host_port = authority.rpartition("@")[2]
        if scheme in ("ssh", "git", "git+ssh"):
            scheme, host_port = "https", host_port.split(":", 1)[0]
        elif scheme not in ("http", "https"):
            host_port = ""
    elif match := _SCP_LIKE.match(raw):
        scheme, host_port, path = "https", match["host"], match["path"]
    else:
        host_port, path = "", ""
    path = path.split("?", 1)[0].strip("/").removesuffix(".git")
    if not host_port or len([part for part in path.split("/") if part]) < min_segments:
        raise InvalidProvider(
            f"Provider '{settings.name}': address must be the repository's URL "
            f"(https://<host>/<owner>/<repository>) for type '{settings.type}'"
        )
    return Repository(f"{scheme}://{host_port}", host_port.split(":", 1)[0], path)


def commit_sha(event: Event) -> str | None:
    """Return the commit hash the event is about, or None when its metadata names none."""
    metadata = event.metadata
    candidates = [metadata.get("revision", "")]
    candidates += [value for key, value in sorted(metadata.items()) if key.endswith("/revision")]
    for revision in candidates:
        if not revision:
            continue
        if "@" in revision:
            revision = revision.rsplit("@", 1)[1]
        if ":" in revision:
            algorithm, _, revision = revision.partition(":")
            if algorithm not in ("sha1", "sha256"):
                continue
        revision = revision.rsplit("/", 1)[-1]
        if _HASH.match(revision):
            return revision.lower()
    return None


def describe_reason(reason: str) -> str:
    """Return the reason's words in lower case, as Flux's status description."""
    return " ".join(_CAMEL.findall(reason)).lower() or reason.lower()


@functools.cache
def _cel_env() -> Any:
    return cel.NewEnv(extensions=[ext_strings.ExtStrings(), ext_encoders.ExtEncoders()])


class StatusIdentity:
    """Computes the status identity of each event for one Provider."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.program = None
        if settings.commit_status_expr:
            try:
                self.program = _cel_env().compile(settings.commit_status_expr, disable_check=True)
            except Exception as error:  # the library raises plain errors for a parse failure
                raise InvalidProvider(
                    f"Provider '{settings.name}': spec.commitStatusExpr does not parse: {error}"
                ) from error

    def __call__(self, event: Event) -> str:
        """Return the identity of ``event``'s status; SendFailed if the expression fails."""
        if self.program is None:
            obj = event.involved_object
            suffix = self.settings.uid.split("-", 1)[0]
            parts = [obj.kind, obj.name, *([suffix] if suffix else [])]
            return "/".join(parts).lower()
        try:
            value = self.program.eval(data=self._variables(event))
        except Exception as error:  # a binding failure must not escape the dispatcher
            raise SendFailed(
                f"Provider '{self.settings.name}': spec.commitStatusExpr failed: {error}",
                retryable=False,
            ) from error
        if value.type() != cel.Type.STRING or not value.plain_value():
            detail = value.plain_value() if value.type() == cel.Type.ERROR else value.type().name()
            raise SendFailed(
                f"Provider '{self.settings.name}': spec.commitStatusExpr did not evaluate to a "
                f"non-empty string: {detail}",
                retryable=False,
            )
        return str(value.plain_value())

    def _variables(self, event: Event) -> dict[str, Any]:
        settings = self.settings
        namespace, _, name = settings.name.rpartition("/")
        provider = {
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
            "kind": "Provider",
            "metadata": {"name": name, "namespace": namespace, "uid": settings.uid},
            "spec": {"type": settings.type, "channel": settings.channel},
        }
        return {"event": event.to_json(), "provider": provider, "alert": {}}


class CommitStatusNotifier(HttpNotifier):
    """Base of the commit-status types: resolves commit and identity, then posts one status.

    Subclasses set :attr:`auth_headers` or :attr:`auth` in ``__init__`` and say where
    (:meth:`status_url`) and what (:meth:`status_body`) to post; a host with extra rules
    overrides :meth:`post_status`.
    """

    auth_headers: Mapping[str, str] = {}
    """Headers that authenticate each request (``PRIVATE-TOKEN``, ``Authorization``)."""
    auth: tuple[str, str] | None = None
    """Basic-auth credentials, for hosts that take them instead."""

    def __init__(self, settings: ProviderSettings, repository: Repository) -> None:
        self.repository = repository
        self.identity = StatusIdentity(settings)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Post the status of ``event``'s commit; events without a commit cannot be posted."""
        sha = commit_sha(event)
        if sha is None:
            raise self.failed(
                "the event has no commit revision in its metadata "
                f"(revision '{event.metadata.get('revision', '')}')",
                retryable=False,
            )
        body = self.status_body(
            event, identity=self.identity(event), description=describe_reason(event.reason)
        )
        await self.post_status(sha, body)

    async def post_status(self, sha: str, body: dict[str, Any]) -> None:
        """POST ``body`` to the commit's status endpoint."""
        await self.send(
            "POST", self.status_url(sha), json=body, headers=self.auth_headers, auth=self.auth
        )

    def status_url(self, sha: str) -> str:
        """Return the endpoint that takes a status for commit ``sha``."""
        raise NotImplementedError

    def status_body(self, event: Event, *, identity: str, description: str) -> dict[str, Any]:
        """Return the host's status for ``event``."""
        raise NotImplementedError

"""Registry credentials from Kubernetes Secrets, and the registry's answer to "who are you?".

OCIRepository reads credentials the way the kubelet reads ``imagePullSecrets`` (and Flux's
``k8schain`` after it): a ``kubernetes.io/dockerconfigjson`` Secret whose ``auths`` map is keyed
by registry host, written with or without a scheme and a path (``ghcr.io``,
``https://index.docker.io/v1/``). A ``kubernetes.io/dockercfg`` Secret (the legacy format, the
same map without the ``auths`` level) is read too. A registry with no entry is accessed
anonymously, as Flux does.

The registry says how to authenticate in the ``WWW-Authenticate`` header of a 401 (RFC 7235):
``Basic realm="…"`` for basic auth, or ``Bearer realm="…",service="…",scope="…"`` for the token
flow of the distribution spec. :func:`parse_challenges` reads that header.

Nothing here ever puts a credential in a message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "Challenge",
    "CredentialsError",
    "RegistryCredentials",
    "credentials_for",
    "normalize_host",
    "parse_challenges",
    "parse_docker_config",
    "read_pull_secret",
]

DOCKER_CONFIG_JSON = ".dockerconfigjson"
"""Key of a ``kubernetes.io/dockerconfigjson`` Secret."""
DOCKER_CFG = ".dockercfg"
"""Key of a legacy ``kubernetes.io/dockercfg`` Secret."""

_DOCKER_HUB = "index.docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


class CredentialsError(ValueError):
    """A Secret cannot be read as registry credentials; the message names the Secret and key."""


@dataclass(frozen=True, repr=False)
class RegistryCredentials:
    """What to present to one registry: a username and password, or a registry token."""

    username: str | None = None
    password: str | None = None
    token: str | None = None
    """A ``registrytoken``: sent as a bearer token as is, never exchanged."""

    def __repr__(self) -> str:  # never print secrets, even in a debugger or a traceback
        return "RegistryCredentials(<redacted>)"

    @property
    def basic(self) -> tuple[str, str] | None:
        """Return ``(username, password)`` when both are set."""
        if self.username is None or self.password is None:
            return None
        return self.username, self.password


def normalize_host(key: str) -> str:
    """Return the registry host a Docker config key names (``https://ghcr.io/v2/`` → ghcr.io).

    Docker Hub's many spellings all become ``index.docker.io``, as the kubelet matches them.
    """
    host = key.strip()
    host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", host)
    host = host.split("/", 1)[0].lower()
    return _DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def _entry(host: str, value: object, where: str) -> RegistryCredentials:
    if not isinstance(value, Mapping):
        raise CredentialsError(f"{where}: the entry for '{host}' is not an object")
    username, password = value.get("username"), value.get("password")
    if (not username or not password) and value.get("auth"):
        try:
            decoded = base64.b64decode(str(value["auth"]), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise CredentialsError(
                f"{where}: the 'auth' field for '{host}' is not base64 of 'username:password'"
            ) from error
        username, sep, password = decoded.partition(":")
        if not sep:
            raise CredentialsError(
                f"{where}: the 'auth' field for '{host}' is not base64 of 'username:password'"
            )
    token = value.get("registrytoken") or None
    if not (username and password) and not token and value.get("identitytoken"):
        raise CredentialsError(
            f"{where}: the entry for '{host}' holds an 'identitytoken', which Tide does not "
            "exchange; give 'username' and 'password' (or 'auth') instead"
        )
    return RegistryCredentials(
        username=str(username) if username else None,
        password=str(password) if password else None,
        token=str(token) if token else None,
    )


def parse_docker_config(raw: bytes, *, where: str) -> dict[str, RegistryCredentials]:
    """Read a ``.dockerconfigjson`` (or legacy ``.dockercfg``) document into host → credentials.

    Args:
        raw: the decoded Secret value.
        where: names the Secret in error messages, e.g. ``Secret 'ns/name' (spec.secretRef)``.

    Raises:
        CredentialsError: the document is not JSON of the expected shape.
    """
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise CredentialsError(f"{where}: not a valid Docker config JSON document") from error
    if not isinstance(document, Mapping):
        raise CredentialsError(f"{where}: a Docker config JSON document must be an object")
    auths = document.get("auths", document)
    if not isinstance(auths, Mapping):
        raise CredentialsError(f"{where}: 'auths' must be an object")
    found: dict[str, RegistryCredentials] = {}
    for key, value in auths.items():
        host = normalize_host(str(key))
        found.setdefault(host, _entry(host, value, where))
    return found


def read_pull_secret(secret: Mapping[str, object], *, where: str) -> dict[str, RegistryCredentials]:
    """Read a Secret object (as the API returns it) holding a Docker config.

    Raises:
        CredentialsError: neither ``.dockerconfigjson`` nor ``.dockercfg`` is present, or the
            value does not parse.
    """
    data = secret.get("data") or {}
    assert isinstance(data, Mapping)
    for key in (DOCKER_CONFIG_JSON, DOCKER_CFG):
        if key in data:
            try:
                raw = base64.b64decode(str(data[key]), validate=True)
            except binascii.Error as error:
                raise CredentialsError(f"{where}: key '{key}' is not base64") from error
            return parse_docker_config(raw, where=where)
    raise CredentialsError(
        f"{where}: key '{DOCKER_CONFIG_JSON}' is required (a kubernetes.io/dockerconfigjson "
        "Secret, as 'kubectl create secret docker-registry' makes)"
    )


def credentials_for(
    host: str, configs: Iterable[Mapping[str, RegistryCredentials]]
) -> RegistryCredentials | None:
    """Return the first credentials any of ``configs`` holds for ``host``; None: anonymous."""
    wanted = normalize_host(host)
    for config in configs:
        if wanted in config:
            return config[wanted]
    return None


@dataclass(frozen=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: its scheme (lower case) and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(,|$)')
_SCHEME = re.compile(rf"\s*({_TOKEN})(?:\s+|$)")


def parse_challenges(header: str | None) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges, in order.

    Quoted values may hold commas and escaped quotes (``scope="repository:a/b:pull,push"``);
    parameter names are lower-cased, values kept as written. Whatever cannot be parsed ends the
    parse: a registry that sends garbage gets treated as one that sent no challenge.
    """
    challenges: list[Challenge] = []
    text = header or ""
    position = 0
    while position < len(text):
        while position < len(text) and text[position] in ", \t":
            position += 1
        scheme = _SCHEME.match(text, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        while position < len(text):
            param = _PARAM.match(text, position)
            if param is None:
                break
            name, quoted, bare = param.group(1), param.group(2), param.group(3)
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            params[name.lower()] = value
            position = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges

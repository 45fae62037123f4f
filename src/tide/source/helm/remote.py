"""Talk to a Helm chart repository over HTTP(S): credentials, TLS, size limits, timeouts.

The Helm SDK has a ``repo_index`` download, but it takes neither a CA bundle nor client
certificates, cannot stop reading at a size limit and has no timeout, all of which a
HelmRepository spec asks for; so the index and the chart archives are fetched here with httpx,
and only parsing, loading and packaging go through Helm.

Credentials follow Helm's getter: basic auth is sent to the repository's own scheme and host
(port included), and to other hosts only with ``spec.passCredentials``. A Secret's values never
appear in a message: failures name the Secret and the key, never the content.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import ssl
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from tide.api import reasons
from tide.api.meta import parse_duration
from tide.api.source import HelmRepository
from tide.kube import resources
from tide.kube.client import KubeClient

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CHART_SIZE",
    "ClientOptions",
    "FetchError",
    "client_options",
    "download",
    "read_limited",
    "redact",
    "secret_data",
]

DEFAULT_TIMEOUT = 60.0
"""Seconds allowed for one fetch when ``spec.timeout`` is not set, as in Flux."""
MAX_CHART_SIZE = 10 << 20
"""Largest chart archive accepted: 10 MiB, Flux's ``helm.MaxChartSize``."""

_TLS_KEYS = (("ca.crt", "caFile"), ("tls.crt", "certFile"), ("tls.key", "keyFile"))
"""Each TLS item with its current key and the deprecated one Flux still reads."""


class FetchError(Exception):
    """Fetching from the repository failed; ``reason`` is the Flux reason to report."""

    def __init__(self, message: str, *, reason: str = reasons.FAILED) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ClientOptions:
    """How to reach one repository: its URL, credentials, TLS and time budget."""

    url: str
    username: str | None = None
    password: str | None = None
    verify: ssl.SSLContext | bool = True
    pass_credentials: bool = False
    timeout: float = DEFAULT_TIMEOUT

    def auth_for(self, url: str) -> httpx.BasicAuth | None:
        """Return basic auth for ``url`` if credentials may be sent there."""
        if self.username is None or self.password is None:
            return None
        mine, theirs = urlsplit(self.url), urlsplit(url)
        same_host = (mine.scheme, mine.netloc.rpartition("@")[2]) == (
            theirs.scheme,
            theirs.netloc.rpartition("@")[2],
        )
        if same_host or self.pass_credentials:
            return httpx.BasicAuth(self.username, self.password)
        return None


async def client_options(kube: KubeClient, repo: HelmRepository, *, workdir: Path) -> ClientOptions:
    """Read the repository's Secrets and build its :class:`ClientOptions`.

    Raises:
        FetchError: (``AuthenticationFailed``) a Secret is missing or holds unusable data.
    """
    spec, namespace = repo.spec, repo.metadata.namespace or "default"
    username = password = None
    tls: dict[str, bytes] = {}
    where_tls = ""
    if spec.secret_ref is not None:
        where = f"Secret '{namespace}/{spec.secret_ref.name}' (spec.secretRef)"
        data = await secret_data(kube, namespace, spec.secret_ref.name, where)
        username, password = _basic_auth(data, where)
        if spec.cert_secret_ref is None:  # deprecated: TLS material in spec.secretRef
            tls, where_tls = _tls_items(data), where
    if spec.cert_secret_ref is not None:
        where_tls = f"Secret '{namespace}/{spec.cert_secret_ref.name}' (spec.certSecretRef)"
        tls = _tls_items(await secret_data(kube, namespace, spec.cert_secret_ref.name, where_tls))
    verify: ssl.SSLContext | bool = True
    if tls:
        verify = _tls_context(tls, where=where_tls, workdir=workdir)
    return ClientOptions(
        url=spec.url,
        username=username,
        password=password,
        verify=verify,
        pass_credentials=bool(spec.pass_credentials),
        timeout=parse_duration(spec.timeout) if spec.timeout else DEFAULT_TIMEOUT,
    )


async def download(options: ClientOptions, url: str, *, limit: int, what: str) -> bytes:
    """GET ``url`` within the options' timeout, refusing more than ``limit`` bytes.

    Args:
        options: the repository's client options (credentials are sent per :meth:`auth_for`).
        url: what to fetch.
        limit: the most bytes accepted.
        what: names the thing fetched in the size-limit message (``index``, ``chart``).

    Raises:
        FetchError: ``AuthenticationFailed`` on 401/403, ``Failed`` for anything else
            (unreachable, TLS, other HTTP errors, timeout, over the limit).
    """
    shown = redact(url)
    too_large = f"{what} exceeds the maximum {what} file size of {limit} bytes"
    try:
        async with (
            asyncio.timeout(options.timeout),
            httpx.AsyncClient(
                verify=options.verify, timeout=options.timeout, follow_redirects=True
            ) as http,
            http.stream("GET", url, auth=options.auth_for(url)) as response,
        ):
            if response.status_code >= 400:
                reason = (
                    reasons.AUTHENTICATION_FAILED
                    if response.status_code in (401, 403)
                    else reasons.FAILED
                )
                raise FetchError(
                    f"GET {shown}: {response.status_code} {response.reason_phrase}",
                    reason=reason,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"GET {shown}: {too_large}")
            return await read_limited(
                response.aiter_bytes(),
                limit=limit,
                message=f"GET {shown}: {too_large}",
            )
    except (TimeoutError, httpx.TimeoutException):
        raise FetchError(
            f"GET {shown}: timed out after {options.timeout:g}s (spec.timeout)"
        ) from None
    except httpx.HTTPError as error:
        detail = str(error) or type(error).__name__
        raise FetchError(f"GET {shown}: {detail}") from None


async def read_limited(chunks: AsyncIterator[bytes], *, limit: int, message: str) -> bytes:
    """Collect ``chunks``, failing with ``message`` as soon as they pass ``limit`` bytes.

    Reading stops at the first byte over the limit, so a huge (or endless) response costs at
    most ``limit`` bytes of memory.
    """
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            raise FetchError(message)
    return bytes(buffer)


def redact(url: str) -> str:
    """Drop any ``user:password@`` from ``url`` before it goes into a message."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


async def secret_data(kube: KubeClient, namespace: str, name: str, where: str) -> dict[str, bytes]:
    """Return a Secret's decoded data; ``where`` names it (and the spec field) in errors.

    Raises:
        FetchError: (``AuthenticationFailed``) the Secret does not exist or is not base64.
    """
    found = await kube.get_or_none(resources.SECRET, name, namespace=namespace)
    if found is None:
        raise FetchError(f"{where} not found", reason=reasons.AUTHENTICATION_FAILED)
    data: Mapping[str, Any] = found.get("data") or {}
    try:
        return {key: base64.b64decode(value) for key, value in data.items()}
    except ValueError:
        raise FetchError(
            f"{where} holds data that is not base64", reason=reasons.AUTHENTICATION_FAILED
        ) from None


def _basic_auth(data: Mapping[str, bytes], where: str) -> tuple[str | None, str | None]:
    username, password = data.get("username"), data.get("password")
    if username is None and password is None:
        return None, None
    if not username or not password:
        raise FetchError(
            f"invalid basic auth in {where}: keys 'username' and 'password' must both be set",
            reason=reasons.AUTHENTICATION_FAILED,
        )
    return username.decode(), password.decode()


def _tls_items(data: Mapping[str, bytes]) -> dict[str, bytes]:
    items: dict[str, bytes] = {}
    for key, legacy in _TLS_KEYS:
        value = data.get(key) or data.get(legacy)
        if value:
            items[key] = value
    return items


def _tls_context(tls: Mapping[str, bytes], *, where: str, workdir: Path) -> ssl.SSLContext:
    """Trust the system CAs plus ``ca.crt``; present ``tls.crt``/``tls.key`` when given."""
    failed = reasons.AUTHENTICATION_FAILED
    if ("tls.crt" in tls) != ("tls.key" in tls):
        raise FetchError(f"{where}: 'tls.crt' and 'tls.key' must both be set", reason=failed)
    context = ssl.create_default_context()
    if "ca.crt" in tls:
        try:
            context.load_verify_locations(cadata=tls["ca.crt"].decode(errors="replace"))
        except (ssl.SSLError, ValueError):
            raise FetchError(f"{where}: 'ca.crt' is not a PEM certificate", reason=failed) from None
    if "tls.crt" in tls:
        # The ssl module reads a client key pair only from files: write them to a private
        # folder for the duration of the load.
        workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=workdir, prefix="tls-") as scratch:
            cert, key = Path(scratch) / "tls.crt", Path(scratch) / "tls.key"
            for path, name in ((cert, "tls.crt"), (key, "tls.key")):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as sink:
                    sink.write(tls[name])
            try:
                context.load_cert_chain(cert, key)
            except (ssl.SSLError, ValueError):
                raise FetchError(
                    f"{where}: 'tls.crt' and 'tls.key' are not a matching PEM key pair",
                    reason=failed,
                ) from None
            finally:
                with contextlib.suppress(OSError):
                    key.unlink()
    return context

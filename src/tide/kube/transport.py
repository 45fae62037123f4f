"""TLS and proxy settings for outgoing HTTP calls, read from the Secrets an object names.

``certSecretRef`` holds PEM ``ca.crt`` and/or the pair ``tls.crt`` + ``tls.key`` (mutual TLS),
as Flux documents for OCIRepositories and notification Providers; the CA is added to the
system's, as Flux's controllers do (they extend the system pool rather than replacing it).
``proxySecretRef`` holds ``address`` and optionally ``username`` and ``password``.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx

__all__ = [
    "ProxyConfigError",
    "TLSConfigError",
    "TransportError",
    "proxy_from_secret",
    "tls_from_secret",
]


class TransportError(ValueError):
    """A TLS or proxy Secret cannot be used; the message names the Secret and the key."""


class TLSConfigError(TransportError):
    """The ``certSecretRef`` Secret is missing or its certificates do not load."""


class ProxyConfigError(TransportError):
    """The ``proxySecretRef`` Secret is missing or names no usable proxy."""


def _decoded(
    data: Mapping[str, str], where: str, error_type: type[TransportError]
) -> dict[str, bytes]:
    try:
        return {key: base64.b64decode(value, validate=True) for key, value in data.items()}
    except binascii.Error as error:
        raise error_type(f"{where}: a value is not base64") from error


def tls_from_secret(data: Mapping[str, str], *, where: str) -> ssl.SSLContext:
    """Build the TLS context a ``certSecretRef`` describes (``data`` as the API returns it).

    Raises:
        TLSConfigError: neither ``ca.crt`` nor ``tls.crt`` with ``tls.key``, one of the pair
            alone, or PEM that does not load.
    """
    values = _decoded(data, where, TLSConfigError)
    ca, cert, key = values.get("ca.crt"), values.get("tls.crt"), values.get("tls.key")
    if (cert is None) != (key is None):
        raise TLSConfigError(f"{where}: 'tls.crt' and 'tls.key' must be given together")
    if ca is None and cert is None:
        raise TLSConfigError(f"{where}: must contain 'ca.crt', or 'tls.crt' and 'tls.key'")
    context = ssl.create_default_context()
    try:
        if ca is not None:
            context.load_verify_locations(cadata=ca.decode())
        if cert is not None and key is not None:
            _load_client_pair(context, cert, key)
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as error:
        raise TLSConfigError(f"{where}: the certificates do not load: {error}") from error
    return context


def _load_client_pair(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load a client certificate; ``ssl`` reads only files, so they live a moment in 0600 files."""
    with tempfile.TemporaryDirectory(prefix="tide-tls-") as folder:
        paths = []
        for name, content in (("tls.crt", cert), ("tls.key", key)):
            path = Path(folder) / name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as sink:
                sink.write(content)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1])


def proxy_from_secret(data: Mapping[str, str], *, where: str) -> httpx.Proxy:
    """Build the proxy a ``proxySecretRef`` describes.

    Raises:
        ProxyConfigError: no ``address``, or one that is not an ``http(s)://`` URL.
    """
    values = _decoded(data, where, ProxyConfigError)
    address = values.get("address", b"").decode(errors="replace").strip()
    if not address:
        raise ProxyConfigError(f"{where}: key 'address' is required")
    if urlsplit(address).scheme not in ("http", "https") or not urlsplit(address).hostname:
        raise ProxyConfigError(f"{where}: 'address' must be an http:// or https:// URL")
    username, password = values.get("username"), values.get("password")
    auth = (username.decode(), (password or b"").decode()) if username else None
    return httpx.Proxy(address, auth=auth)

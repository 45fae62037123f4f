"""Resolve a Provider and the Secrets it names into :class:`ProviderSettings`.

Flux's rules: keys of ``spec.secretRef`` (``address``, ``token``, ``username``, ``password``,
``headers`` as a YAML map, ``proxy``) override the spec's fields; ``spec.certSecretRef`` holds
``ca.crt`` and/or ``tls.crt`` + ``tls.key``; ``spec.proxySecretRef`` (``address``, ``username``,
``password``) wins over the deprecated ``spec.proxy`` and the Secret's ``proxy`` key;
``spec.timeout`` bounds one request (15s by default).

Every error names the Provider, the field and the key, and never a value: these are credentials.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from tide import yamlio
from tide.api import reasons
from tide.api.meta import parse_duration
from tide.api.notification import Provider
from tide.kube import transport
from tide.notification.providers.base import ProviderSettings

__all__ = ["ProviderConfigError", "SecretLookup", "referenced_secrets", "resolve"]

SecretLookup = Callable[[str, str], Mapping[str, Any] | None]
"""``(namespace, name) -> Secret`` as the API returns it, or None when there is none."""

_SECRET_FIELDS = ("address", "token", "username", "password", "headers", "proxy")
_DEFAULT_TIMEOUT = 15.0


class ProviderConfigError(Exception):
    """The Provider cannot be used as configured; ``reason`` is the Warning event's reason."""

    def __init__(self, message: str, *, reason: str = reasons.INVALID_CONFIG) -> None:
        super().__init__(message)
        self.reason = reason


def referenced_secrets(provider: Provider) -> set[str]:
    """Return the names of the Secrets ``provider`` reads (all in its own namespace)."""
    spec = provider.spec
    refs = (spec.secret_ref, spec.cert_secret_ref, spec.proxy_secret_ref)
    return {ref.name for ref in refs if ref is not None}


def resolve(provider: Provider, *, secret: SecretLookup) -> ProviderSettings:
    """Return the settings ``provider`` sends with.

    Raises:
        ProviderConfigError: a named Secret is missing, a key is not usable, the timeout does not
            parse; the message names the field.
    """
    spec = provider.spec
    namespace = provider.metadata.namespace or "default"
    name = f"{namespace}/{provider.metadata.name}"
    values: dict[str, str] = {}
    where = ""
    if spec.secret_ref is not None:
        ref = spec.secret_ref.name
        where = f"Provider '{name}': spec.secretRef Secret '{namespace}/{ref}'"
        values = _text_values(_data(secret, namespace, ref, "spec.secretRef", name), where)
    settings: dict[str, Any] = {
        "type": spec.type,
        "name": name,
        "uid": provider.metadata.uid or "",
        "address": values.get("address", spec.address or "").strip(),
        "channel": spec.channel or "",
        "username": values.get("username", spec.username or ""),
        "token": values.get("token", "").strip(),
        "password": values.get("password", ""),
        "headers": _headers(values["headers"], where) if "headers" in values else {},
        "proxy": values.get("proxy", spec.proxy or "").strip(),
        "commit_status_expr": spec.commit_status_expr or "",
        "extra": {k: v for k, v in values.items() if k not in _SECRET_FIELDS},
        "timeout": _timeout(spec.timeout, name),
    }
    if spec.proxy_secret_ref is not None:
        ref = spec.proxy_secret_ref.name
        data = _data(secret, namespace, ref, "spec.proxySecretRef", name)
        settings["proxy"] = _proxy_url(
            data, where=f"Provider '{name}': spec.proxySecretRef '{ref}'"
        )
    if spec.cert_secret_ref is not None:
        ref = spec.cert_secret_ref.name
        data = _data(secret, namespace, ref, "spec.certSecretRef", name)
        try:
            settings["tls"] = transport.tls_from_secret(
                data, where=f"Provider '{name}': spec.certSecretRef Secret '{namespace}/{ref}'"
            )
        except transport.TransportError as error:
            raise ProviderConfigError(str(error)) from error
    return ProviderSettings(**settings)


def _data(
    secret: SecretLookup, namespace: str, ref: str, field: str, provider: str
) -> Mapping[str, str]:
    found = secret(namespace, ref)
    if found is None:
        raise ProviderConfigError(
            f"Provider '{provider}': {field}: Secret '{namespace}/{ref}' not found",
            reason=reasons.SECRET_NOT_FOUND,
        )
    return found.get("data") or {}


def _text_values(data: Mapping[str, str], where: str) -> dict[str, str]:
    out = {}
    for key, encoded in data.items():
        try:
            out[key] = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise ProviderConfigError(
                f"{where}: key '{key}' is not base64-encoded UTF-8 text"
            ) from error
    return out


def _headers(text: str, where: str) -> dict[str, str]:
    loaded = yamlio.load_or_fail(
        text, lambda problem: ProviderConfigError(f"{where}: key 'headers' is not YAML: {problem}")
    )
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise ProviderConfigError(f"{where}: key 'headers' must be a map of names to values")
    return {k: "" if v is None else str(v) for k, v in loaded.items()}


def _proxy_url(data: Mapping[str, str], *, where: str) -> str:
    """Return the proxy as one URL, credentials in its user part (how HTTP clients take them)."""
    try:
        proxy = transport.proxy_from_secret(data, where=where)
    except transport.TransportError as error:
        raise ProviderConfigError(str(error)) from error
    url = str(proxy.url)
    if proxy.auth is None:
        return url
    user, password = (quote(part, safe="") for part in proxy.auth)
    parts = urlsplit(url)
    netloc = f"{user}:{password}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _timeout(text: str | None, provider: str) -> float:
    if not text:
        return _DEFAULT_TIMEOUT
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ProviderConfigError(f"Provider '{provider}': spec.timeout: {error}") from error

"""Verify the OIDC token Google Pub/Sub signs its push requests with (``gcr`` Receivers).

Google Container/Artifact Registry announces pushes through Pub/Sub; a push subscription with
authentication enabled sends ``Authorization: Bearer <JWT>``, an ID token signed by Google. The
checks are the ones Google documents for push endpoints, as Flux makes them:

- the signature verifies (RS256) with one of Google's published keys, found by the token's
  ``kid`` in the JWKS at :data:`GOOGLE_CERTS` (fetched over HTTPS, cached, fetched again when a
  token names a key not seen yet, since Google rotates them);
- ``iss`` is ``accounts.google.com`` or ``https://accounts.google.com``; ``exp`` is in the future;
- ``aud`` equals the Secret's ``audience`` key, when the Secret has one;
- ``email`` equals the Secret's ``email`` key (the subscription's service account), when set,
  and ``email_verified`` is true.

So a ``gcr`` Receiver needs the controller to reach ``www.googleapis.com``; without it every
delivery is answered 503 with a Warning saying the keys could not be fetched. PyJWT does the
token parsing and signature check: hand-written JWT validation is a classic source of bypasses.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import jwt

from tide.notification.payloads import Rejected

__all__ = ["GOOGLE_CERTS", "GOOGLE_ISSUERS", "GoogleTokenVerifier"]

GOOGLE_CERTS = "https://www.googleapis.com/oauth2/v3/certs"
"""Google's OAuth 2 / OIDC signing keys, as a JWKS."""
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
"""The ``iss`` values Google's ID tokens carry."""

_KEYS_FOR = 3600.0
"""Seconds a fetched JWKS is trusted before it is fetched again."""
_REFETCH_AFTER = 30.0
"""Fewest seconds between fetches caused by an unknown ``kid`` (a flood must not hammer Google)."""
_LEEWAY = 10.0
"""Seconds of clock skew tolerated on ``exp`` and ``iat``."""


class GoogleTokenVerifier:
    """Check ``Authorization: Bearer <ID token>`` headers against Google's keys.

    Args:
        keys_url: where the JWKS is fetched (default :data:`GOOGLE_CERTS`; tests point it at a
            loopback server).
        timeout: seconds for one fetch of the keys (default 10).
    """

    def __init__(self, *, keys_url: str = GOOGLE_CERTS, timeout: float = 10.0) -> None:
        self.keys_url = keys_url
        self._timeout = timeout
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._failed: tuple[float, Rejected] | None = None
        self._lock = asyncio.Lock()

    async def verify(self, authorization: str, *, audience: str = "", email: str = "") -> None:
        """Accept a valid token or raise :class:`Rejected` saying what is wrong.

        Raises:
            Rejected: 401 for a missing, malformed, forged, expired or foreign token; 503 when
                Google's keys cannot be fetched.
        """
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Rejected("the Authorization header is missing or not 'Bearer <ID token>'")
        token = token.strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid") or ""
        except jwt.InvalidTokenError as error:
            raise Rejected(f"the ID token is malformed: {error}") from error
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                audience=audience or None,
                issuer=GOOGLE_ISSUERS,
                leeway=_LEEWAY,
                options={"require": ["exp", "iat", "iss"], "verify_aud": bool(audience)},
            )
        except jwt.InvalidTokenError as error:
            raise Rejected(f"the ID token is not valid: {error}") from error
        if email and claims.get("email") != email:
            raise Rejected(f"the ID token's email is {claims.get('email')!r}, want {email!r}")
        if claims.get("email_verified") is not True:
            raise Rejected(f"the ID token's email {claims.get('email')!r} is not verified")

    async def _key(self, kid: str) -> Any:
        """Return the public key named ``kid``, fetching the JWKS when stale or unknown."""
        async with self._lock:
            now = time.monotonic()
            age = now - self._fetched_at
            if age > _KEYS_FOR or (kid not in self._keys and age > _REFETCH_AFTER):
                if self._failed is not None and now - self._failed[0] < _REFETCH_AFTER:
                    raise self._failed[1]  # answer at once while Google stays out of reach
                try:
                    self._keys = await self._fetch()
                except Rejected as error:
                    self._failed = (now, error)
                    raise
                self._fetched_at, self._failed = time.monotonic(), None
        if kid not in self._keys:
            raise Rejected(
                f"the ID token is signed with key {kid!r}, which Google does not publish"
            )
        return self._keys[kid]

    async def _fetch(self) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self.keys_url) as response,
            ):
                response.raise_for_status()
                document = await response.json(content_type=None)
            keys = {}
            for entry in document.get("keys") or ():
                if entry.get("kid") and entry.get("kty") == "RSA":
                    keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
            return keys
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError,
                jwt.PyJWKError) as error:  # fmt: skip
            raise Rejected(
                f"cannot fetch Google's signing keys from {self.keys_url}: "
                f"{type(error).__name__}: {error}",
                status=503,
            ) from error

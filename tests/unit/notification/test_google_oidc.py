"""GoogleTokenVerifier: ID tokens checked against a JWKS served on loopback, as Google serves it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tide.notification.google_oidc import GoogleTokenVerifier
from tide.notification.payloads import Rejected

pytestmark = pytest.mark.unit

AUDIENCE = "https://tide.example/hook/abc"
EMAIL = "pusher@project.iam.gserviceaccount.com"
GOOGLE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Keys:
    """A JWKS endpoint whose published keys a test can change; counts its fetches."""

    def __init__(self) -> None:
        self.published: dict[str, Any] = {"google-1": GOOGLE_KEY.public_key()}
        self.fetches = 0
        self.url = ""

    async def serve(self, _: web.Request) -> web.Response:
        self.fetches += 1
        keys = []
        for kid, key in self.published.items():
            entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
            keys.append({**entry, "kid": kid, "alg": "RS256", "use": "sig"})
        return web.json_response({"keys": keys})


@pytest_asyncio.fixture
async def keys() -> AsyncIterator[Keys]:
    served = Keys()
    app = web.Application()
    app.router.add_get("/certs", served.serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served.url = f"http://127.0.0.1:{port}/certs"
    yield served
    await runner.cleanup()


def id_token(key: Any = GOOGLE_KEY, *, kid: str = "google-1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": EMAIL,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def refused(keys: Keys, authorization: str, **expect: str) -> Rejected:
    verifier = GoogleTokenVerifier(keys_url=keys.url)
    with pytest.raises(Rejected) as caught:
        await verifier.verify(authorization, audience=AUDIENCE, email=EMAIL, **expect)
    return caught.value


async def test_a_token_google_signed_for_this_audience_and_account_is_accepted(
    keys: Keys,
) -> None:
    verifier = GoogleTokenVerifier(keys_url=keys.url)

    await verifier.verify(f"Bearer {id_token()}", audience=AUDIENCE, email=EMAIL)
    await verifier.verify(f"Bearer {id_token(iss='accounts.google.com')}", audience=AUDIENCE)

    assert keys.fetches == 1  # the keys are cached


async def test_without_audience_and_email_in_the_secret_only_google_and_verification_count(
    keys: Keys,
) -> None:
    verifier = GoogleTokenVerifier(keys_url=keys.url)

    await verifier.verify(f"Bearer {id_token(aud='anything', email='x@y')}")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (id_token(OTHER_KEY), "the ID token is not valid: Signature verification failed"),
        (id_token(aud="https://elsewhere"), "the ID token is not valid: Audience doesn't match"),
        (id_token(iss="https://evil.example"), "the ID token is not valid: Invalid issuer"),
        (id_token(exp=int(time.time()) - 3600), "the ID token is not valid: Signature has expired"),
        (id_token(exp=None), 'the ID token is not valid: Token is missing the "exp" claim'),
        (id_token(email="other@x"), "the ID token's email is 'other@x', want"),
        (id_token(email_verified=False), "the ID token's email"),
        (id_token(kid="unknown"), "the ID token is signed with key 'unknown'"),
    ],
    ids=["forged", "audience", "issuer", "expired", "no-exp", "email", "unverified", "kid"],
)
async def test_a_bad_token_is_refused_with_401(keys: Keys, token: str, message: str) -> None:
    error = await refused(keys, f"Bearer {token}")

    assert error.status == 401
    assert str(error).startswith(message)


async def test_an_unsigned_token_is_refused(keys: Keys) -> None:
    claims = jwt.decode(id_token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "google-1"})

    assert "not valid" in str(await refused(keys, f"Bearer {unsigned}"))


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer ", "Bearer not.a.jwt"])
async def test_a_missing_or_malformed_header_is_refused(keys: Keys, header: str) -> None:
    assert (await refused(keys, header)).status == 401


async def test_a_rotated_key_is_fetched_when_a_token_names_it(keys: Keys) -> None:
    verifier = GoogleTokenVerifier(keys_url=keys.url)
    await verifier.verify(f"Bearer {id_token()}", audience=AUDIENCE)
    verifier._fetched_at -= 60  # as if the first fetch were older than the refetch pause
    keys.published["google-2"] = OTHER_KEY.public_key()

    await verifier.verify(f"Bearer {id_token(OTHER_KEY, kid='google-2')}", audience=AUDIENCE)

    assert keys.fetches == 2


async def test_keys_out_of_reach_answer_503_and_are_not_fetched_on_every_request() -> None:
    verifier = GoogleTokenVerifier(keys_url="http://127.0.0.1:9/certs", timeout=2)

    errors = []
    for _ in range(2):
        with pytest.raises(Rejected) as caught:
            await verifier.verify(f"Bearer {id_token()}", audience=AUDIENCE)
        errors.append(caught.value)

    assert errors[0].status == 503
    assert str(errors[0]).startswith("cannot fetch Google's signing keys from")
    assert errors[1] is errors[0]  # the failure is remembered, not retried at once

"""A small async client for the OCI distribution API: resolve, list tags, pull one layer.

Why our own: no maintained async OCI client on PyPI fits. ``oras`` (oras-py) is synchronous and
built on ``requests``, so every pull would hold a worker thread for its whole timeout and bring a
second HTTP stack; the Docker SDKs need a daemon. A reconcile needs four calls of the API — HEAD
or GET a manifest, list tags, GET a manifest by digest, GET one blob — which ``httpx`` does in a
few dozen lines, with the same timeout, TLS and proxy settings as every other call Tide makes.

Behaviour follows go-containerregistry's ``remote`` package, which Flux uses:

* ``Accept`` lists OCI manifests and indexes and Docker v2 manifests and lists; a tag resolves
  by HEAD (``Docker-Content-Digest``), falling back to GET and hashing the body.
* Authentication is lazy: a request goes out anonymously; a 401 carries a ``WWW-Authenticate``
  challenge. ``Basic`` → retry with the username and password; ``Bearer`` → get a token from
  the realm (with basic credentials if any, anonymously otherwise) for the challenge's scope and
  retry with it. The header is then reused for every later request of this client.
* ``insecure``: like go-containerregistry for an insecure registry, try HTTPS without certificate
  checks first and fall back to plain HTTP when the TLS handshake fails.
* A manifest fetched by digest and a downloaded blob are hashed and refused when the digest (or
  the blob's size) differs from what was asked for. An index is followed to its
  ``linux/amd64`` manifest, as ``remote.Image`` does by default.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx

from tide.source.oci.auth import Challenge, RegistryCredentials, parse_challenges
from tide.source.oci.manifest import (
    ACCEPTED_MANIFESTS,
    Descriptor,
    MalformedManifest,
    Manifest,
    parse_manifest,
)
from tide.source.oci.refs import Repository

__all__ = [
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryNotFound",
    "RegistryTimeout",
]

_MAX_MANIFEST = 4 << 20
"""Distribution caps manifests at 4 MiB; a larger answer is not a manifest."""
_MAX_TAG_PAGES = 1000
_CHUNK = 1 << 20
_USER_AGENT = "tide-source-controller"


class RegistryError(Exception):
    """A registry call failed; the message says which call and why (never a credential)."""


class RegistryAuthError(RegistryError):
    """The registry wants credentials that were not given, or refused the ones given."""


class RegistryNotFound(RegistryError):
    """The repository, tag, manifest or blob does not exist."""


class RegistryTimeout(RegistryError):
    """A call took longer than the client's timeout; ``call`` says which (``GET <url>``)."""

    def __init__(self, call: str) -> None:
        super().__init__(f"{call} timed out")
        self.call = call


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _registry_errors(response: httpx.Response) -> str:
    """Return the distribution error codes of a failed response (``MANIFEST_UNKNOWN: …``)."""
    try:
        errors = json.loads(response.content).get("errors") or []
        text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, AttributeError, TypeError):
        text = ""
    return text or response.reason_phrase or "no details"


def _next_link(response: httpx.Response) -> str | None:
    """Return the ``rel="next"`` target of a ``Link`` header, resolved against the request."""
    for part in response.headers.get_list("Link"):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return str(response.request.url.join(target.strip().strip("<>")))
    return None


class RegistryClient:
    """Talk to one repository of one registry for the length of a reconcile.

    Args:
        repository: the repository (from :func:`~tide.source.oci.refs.parse_url`).
        credentials: what to present when challenged (default: anonymous).
        tls: certificate checks for HTTPS (default: the system's CAs).
        insecure: try HTTPS without certificate checks, then plain HTTP (default False).
        timeout: seconds allowed for each call (connect, read, write).
        proxy: proxy for every call (default: none).
        transport: replaces the network, for tests (``httpx.MockTransport``).
        before_request: awaited before every call goes out, token requests included (default:
            none); a shared per-registry request budget waits there.
    """

    def __init__(
        self,
        repository: Repository,
        *,
        credentials: RegistryCredentials | None = None,
        tls: ssl.SSLContext | None = None,
        insecure: bool = False,
        timeout: float = 60.0,
        proxy: httpx.Proxy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        before_request: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.repository = repository
        self._before_request = before_request
        self._credentials = credentials or RegistryCredentials()
        # Flux skips certificate checks only for insecure registries without a certSecretRef.
        verify: ssl.SSLContext | bool = tls if tls is not None else not insecure
        self._http = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            proxy=proxy,
            transport=transport,
            headers={"User-Agent": _USER_AGENT},
        )
        self._scheme: str | None = None if insecure else "https"
        self._authorization: str | None = None
        if self._credentials.token:
            self._authorization = f"Bearer {self._credentials.token}"

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    # -- the API ----------------------------------------------------------------------------
    async def resolve(self, tag: str) -> str:
        """Return the digest ``tag`` points to (HEAD, or GET when HEAD gives no digest)."""
        path = f"/manifests/{tag}"
        headers = {"Accept": ", ".join(ACCEPTED_MANIFESTS)}
        head = await self._request("HEAD", path, headers=headers)
        digest = head.headers.get("Docker-Content-Digest", "")
        if head.status_code == 200 and digest.startswith("sha256:"):
            return digest
        response = await self._request("GET", path, headers=headers)
        self._expect(response, f"tag '{tag}'")
        return _sha256(response.content)

    async def list_tags(self) -> list[str]:
        """Return every tag of the repository, following ``Link`` pagination."""
        return [tag async for page in self.tag_pages() for tag in page]

    async def tag_pages(self, *, page_size: int | None = None) -> AsyncIterator[list[str]]:
        """Yield the repository's tags one page at a time, following ``Link`` pagination.

        ``page_size`` asks for pages of that many tags (``n=``, which registries may lower);
        a registry that refuses ``n`` (HTTP 400 on the first page) is asked again without it.
        Only one page is held at a time, so a repository with many tags costs one page of
        memory.
        """
        target: str | None = f"/tags/list?n={page_size}" if page_size else "/tags/list"
        for page in range(_MAX_TAG_PAGES):
            if target is None:
                return
            response = await self._request("GET", target)
            if response.status_code == 400 and page == 0 and page_size:
                target = "/tags/list"
                response = await self._request("GET", target)
            self._expect(response, "tag list", missing=f"repository '{self.repository}' not found")
            try:
                tags = [str(t) for t in response.json().get("tags") or []]
            except (ValueError, AttributeError) as error:
                raise RegistryError(f"the tag list of '{self.repository}' is not JSON") from error
            target = _next_link(response)
            yield tags
        raise RegistryError(f"the tag list of '{self.repository}' has over {_MAX_TAG_PAGES} pages")

    async def manifest(self, digest: str, *, follow_index: bool = True) -> Manifest:
        """Fetch the manifest ``digest`` names, checked against it; an index is followed."""
        response = await self._request(
            "GET", f"/manifests/{digest}", headers={"Accept": ", ".join(ACCEPTED_MANIFESTS)}
        )
        self._expect(response, f"manifest '{digest}'")
        body = response.content
        if len(body) > _MAX_MANIFEST:
            raise RegistryError(f"manifest '{digest}' is larger than {_MAX_MANIFEST} bytes")
        if _sha256(body) != digest:
            raise RegistryError(f"manifest '{digest}' was served with a different digest")
        try:
            manifest = parse_manifest(
                body, digest=digest, content_type=response.headers.get("Content-Type", "")
            )
        except MalformedManifest as error:
            raise RegistryError(f"manifest '{digest}': {error}") from error
        if manifest.is_index and follow_index:
            child = manifest.for_platform()
            if child is None:
                raise RegistryError(f"index '{digest}' has no manifest for platform linux/amd64")
            return await self.manifest(child.digest, follow_index=False)
        return manifest

    async def download(self, blob: Descriptor, destination: Path) -> None:
        """Write ``blob`` to ``destination``; refuse content whose size or digest differs."""
        digest = hashlib.sha256()
        size = 0
        response = await self._request("GET", f"/blobs/{blob.digest}", stream=True)
        try:
            if response.status_code != 200:
                await response.aread()
                self._expect(response, f"blob '{blob.digest}'")
            with destination.open("wb") as sink:
                async for chunk in response.aiter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > blob.size:
                        raise RegistryError(
                            f"blob '{blob.digest}' is larger than the {blob.size} bytes declared"
                        )
                    digest.update(chunk)
                    sink.write(chunk)
        except httpx.TimeoutException as error:
            raise RegistryTimeout(f"downloading blob '{blob.digest}'") from error
        except httpx.HTTPError as error:
            raise RegistryError(f"downloading blob '{blob.digest}' failed: {error}") from error
        finally:
            await response.aclose()
        actual = f"sha256:{digest.hexdigest()}"
        if size != blob.size or actual != blob.digest:
            raise RegistryError(
                f"blob '{blob.digest}' was served with digest '{actual}' ({size} bytes)"
            )

    # -- plumbing ---------------------------------------------------------------------------
    def _expect(self, response: httpx.Response, what: str, *, missing: str | None = None) -> None:
        """Raise unless ``response`` is a 200; ``missing`` replaces the 404 message."""
        if response.status_code == 200:
            return
        details = _registry_errors(response)
        if response.status_code == 404:
            text = missing or f"{what} not found in '{self.repository}'"
            raise RegistryNotFound(f"{text} ({details})")
        raise RegistryError(
            f"reading {what} of '{self.repository}' failed: HTTP {response.status_code} ({details})"
        )

    def _url(self, scheme: str, target: str) -> str:
        if "://" in target:
            return target
        return f"{scheme}://{self.repository.api_host}/v2/{self.repository.path}{target}"

    async def _request(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one call, answering one auth challenge; 401/403 at the end raise."""
        response = await self._send(method, target, headers or {}, stream)
        if response.status_code == 401:
            challenges = parse_challenges(response.headers.get("WWW-Authenticate"))
            if await self._answer(challenges):
                await response.aclose()
                response = await self._send(method, target, headers or {}, stream)
        if response.status_code in (401, 403):
            await response.aclose()
            raise RegistryAuthError(self._refusal(response.status_code))
        return response

    async def _send(
        self, method: str, target: str, headers: dict[str, str], stream: bool
    ) -> httpx.Response:
        headers = dict(headers)
        if self._authorization:
            headers["Authorization"] = self._authorization
        schemes = [self._scheme] if self._scheme else ["https", "http"]
        for index, scheme in enumerate(schemes):
            url = self._url(scheme, target)
            if self._before_request is not None:
                await self._before_request()
            try:
                request = self._http.build_request(method, url, headers=headers)
                response = await self._http.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ProxyError) as error:
                if index + 1 < len(schemes):
                    continue  # insecure: no TLS on the other end (or via the proxy), try HTTP
                raise RegistryError(
                    f"cannot connect to '{scheme}://{self.repository.api_host}': {error}"
                ) from error
            except httpx.TimeoutException as error:
                raise RegistryTimeout(f"{method} {url}") from error
            except httpx.HTTPError as error:
                raise RegistryError(f"{method} {url} failed: {error}") from error
            self._scheme = scheme
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _answer(self, challenges: list[Challenge]) -> bool:
        """Set the ``Authorization`` header that answers the challenge; tell if worth a retry.

        Not worth it: basic credentials or a registry token were already sent (refused), or
        the registry wants basic auth and there are no credentials. A bearer token is fetched
        again, as a later call may need a token for another scope.
        """
        if self._credentials.token:
            return False
        if self._authorization is not None and not self._authorization.startswith("Bearer "):
            return False
        by_scheme = {c.scheme: c for c in challenges}
        if "bearer" in by_scheme:
            self._authorization = f"Bearer {await self._token(by_scheme['bearer'])}"
            return True
        if "basic" in by_scheme and self._credentials.basic is not None:
            user, password = self._credentials.basic
            encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
            self._authorization = f"Basic {encoded}"
            return True
        return False

    async def _token(self, challenge: Challenge) -> str:
        """Fetch a bearer token from the challenge's realm (distribution token flow)."""
        realm = challenge.params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise RegistryAuthError(
                f"the registry '{self.repository.registry}' sent a token realm that is not "
                "an HTTP(S) URL"
            )
        params = {
            "scope": challenge.params.get("scope") or f"repository:{self.repository.path}:pull"
        }
        if "service" in challenge.params:
            params["service"] = challenge.params["service"]
        basic = self._credentials.basic
        if self._before_request is not None:
            await self._before_request()
        try:
            response = await self._http.get(
                realm, params=params, auth=httpx.BasicAuth(*basic) if basic else None
            )
        except httpx.TimeoutException as error:
            raise RegistryTimeout(f"getting a token from '{realm}'") from error
        except httpx.HTTPError as error:
            raise RegistryError(f"getting a token from '{realm}' failed: {error}") from error
        if response.status_code in (401, 403):
            raise RegistryAuthError(self._refusal(response.status_code))
        if response.status_code != 200:
            raise RegistryError(
                f"getting a token from '{realm}' failed: HTTP {response.status_code}"
            )
        try:
            answer = response.json()
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise RegistryError(f"the token service '{realm}' answered without a token")
        return str(token)

    def _refusal(self, status: int) -> str:
        registry = self.repository.registry
        if self._credentials.basic is None and not self._credentials.token:
            return (
                f"the registry '{registry}' requires authentication and no credentials were "
                "given for it"
            )
        if status == 403:
            return f"the registry '{registry}' denied access to '{self.repository.path}'"
        return f"the registry '{registry}' refused the credentials"

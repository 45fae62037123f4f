"""Tide's own Kubernetes error hierarchy; the client library's exceptions stop at this boundary.

Callers above ``tide.kube`` catch these, never the library's, so a change of client library does not
ripple through reconcilers. Each error keeps the API server's own message and chains the cause.
"""

from __future__ import annotations

import httpx2
from lightkube import ApiError

__all__ = [
    "KubeConflict",
    "KubeError",
    "KubeForbidden",
    "KubeGone",
    "KubeInvalid",
    "KubeNotFound",
    "KubeUnavailable",
    "translate",
]


class KubeError(Exception):
    """An API request failed; ``status`` is the HTTP code (0 when nothing answered)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeNotFound(KubeError):
    """The object (or its namespace, or its kind) does not exist."""


class KubeConflict(KubeError):
    """The write lost a race (stale resourceVersion) or the object already exists."""


class KubeInvalid(KubeError):
    """The API server refused the object as invalid; the message names the fields."""


class KubeForbidden(KubeError):
    """RBAC refused the request for the identity in use."""


class KubeGone(KubeError):
    """A watch's resourceVersion is too old; the caller must list again."""


class KubeUnavailable(KubeError):
    """The API server could not be reached or timed out; worth retrying."""


_BY_STATUS: dict[int, type[KubeError]] = {
    404: KubeNotFound,
    409: KubeConflict,
    410: KubeGone,
    422: KubeInvalid,
    403: KubeForbidden,
    400: KubeInvalid,
}


def translate(error: BaseException) -> KubeError:
    """Map a client-library exception to Tide's hierarchy (the caller chains it with ``from``).

    Only the library's API and transport errors are translated; anything else (a bug, a type
    error) is re-raised as it is, so it is never retried as if the API server had failed.
    """
    if isinstance(error, KubeError):
        return error
    if isinstance(error, ApiError):
        status = error.status
        code = int(status.code or 0)
        kind = _BY_STATUS.get(code, KubeUnavailable if code >= 500 or code == 429 else KubeError)
        return kind(status.message or str(error), status=code, reason=status.reason or "")
    if isinstance(error, httpx2.HTTPStatusError):
        # A reply without a Kubernetes Status body, e.g. the 404 for a kind whose CRD is not
        # served yet: the code still says what happened.
        code = error.response.status_code
        kind = _BY_STATUS.get(code, KubeUnavailable if code >= 500 or code == 429 else KubeError)
        return kind(f"HTTP {code} from {error.request.url.path}", status=code)
    if isinstance(error, httpx2.HTTPError | OSError):
        return KubeUnavailable(f"API server unreachable: {error}")
    raise error

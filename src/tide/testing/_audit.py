"""List every Flux object in a namespace and check each against the kstatus rules.

The pytest plugin runs this after each test that used ``tide_namespace``, so a reconciler that
breaks a status invariant fails whichever test happened to touch the object, not only the tests
that remembered to check. The Flux kinds are read from the API server's discovery (every group
ending in ``.fluxcd.io``), so kinds a project adds later are checked without a change here.

Objects no controller has reported on yet are skipped: their status is empty but for the CRD's
default ``observedGeneration: -1``, or every condition is about an older generation than the
spec's (a spec changed a moment before the test ended); kstatus reads both as "in progress", not
as a fault. That
covers an object created a moment before the test ended, and, by Flux's design, a
``HelmRepository`` of ``type: oci`` — a static object that no controller reconciles.

The API server may answer 429 while it settles after CRDs are installed; those requests are
retried (as client-go does) for up to :data:`_RETRY_FOR` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from tide.testing.controlplane import ControlPlane
from tide.testing.kstatus import violations

__all__ = ["FLUX_GROUP_SUFFIX", "flux_resources", "namespace_violations"]

FLUX_GROUP_SUFFIX = ".fluxcd.io"
"""API groups whose objects carry Flux's status contract (and so must obey kstatus)."""
_RETRY_FOR = 15.0
"""Seconds to keep retrying requests the API server answers with 429 Too Many Requests."""


def _get(http: httpx.Client, path: str) -> httpx.Response:
    """GET ``path``, waiting out 429 answers as the server's ``Retry-After`` asks."""
    deadline = time.monotonic() + _RETRY_FOR
    while True:
        response = http.get(path)
        if response.status_code != httpx.codes.TOO_MANY_REQUESTS or time.monotonic() > deadline:
            return response
        time.sleep(min(float(response.headers.get("Retry-After") or 1), 1.0))


def _unreported(obj: Mapping[str, Any]) -> bool:
    """Tell whether no controller has written ``obj``'s status yet (see the module docstring).

    That includes a spec changed a moment ago: every condition is still about an older
    generation, because no controller has looked at the new one yet (kstatus reads that as in
    progress). A controller that wrote a condition for the new generation is judged as usual.
    """
    status = obj.get("status") or {}
    rest = {k: v for k, v in status.items() if k != "observedGeneration"}
    if not rest and status.get("observedGeneration", -1) == -1:
        return True
    generation = (obj.get("metadata") or {}).get("generation")
    seen = [c.get("observedGeneration") for c in status.get("conditions") or []]
    return (
        generation is not None
        and bool(seen)
        and all(isinstance(g, int) and g < generation for g in seen)
        and (status.get("observedGeneration") or 0) < generation
    )


def flux_resources(http: httpx.Client) -> list[str]:
    """Return the list paths (``/apis/<group>/<version>/<plural>``) of namespaced Flux kinds."""
    groups = _get(http, "/apis").raise_for_status().json().get("groups") or []
    paths = []
    for group in groups:
        if not group["name"].endswith(FLUX_GROUP_SUFFIX):
            continue
        version = group["preferredVersion"]["groupVersion"]
        found = _get(http, f"/apis/{version}")
        if found.status_code == httpx.codes.NOT_FOUND:  # removed between the two requests
            continue
        for resource in found.raise_for_status().json().get("resources") or []:
            plain = "/" not in resource["name"]  # not a subresource such as .../status
            if plain and resource.get("namespaced") and "list" in resource.get("verbs", ()):
                paths.append(f"/apis/{version}/{resource['name']}")
    return paths


def namespace_violations(plane: ControlPlane, namespace: str) -> list[str]:
    """Return every kstatus violation of a Flux object in ``namespace`` (empty when all hold).

    Each entry reads ``<Kind>/<name>: <rule broken>``. Objects are read once each, as they are
    at this moment; one caught between two status patches must obey the rules too.
    """
    problems: list[str] = []
    with plane._http() as http:
        for path in flux_resources(http):
            group_version, plural = path.removeprefix("/apis/").rsplit("/", 1)
            response = _get(http, f"/apis/{group_version}/namespaces/{namespace}/{plural}")
            if response.status_code == httpx.codes.NOT_FOUND:  # its CRD went meanwhile
                continue
            listed: dict[str, Any] = response.raise_for_status().json()
            kind = str(listed.get("kind", "")).removesuffix("List")
            for item in listed.get("items") or []:
                obj = {"kind": kind, **item}
                if not _unreported(obj):
                    problems.extend(violations(obj))
    return problems

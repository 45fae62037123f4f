"""List every Flux object in a namespace and check each against the kstatus rules.

The pytest plugin runs this after each test that used ``tide_namespace``, so a reconciler that
breaks a status invariant fails whichever test happened to touch the object, not only the tests
that remembered to check. The Flux kinds are read from the API server's discovery (every group
ending in ``.fluxcd.io``), so kinds a project adds later are checked without a change here.

One exemption, by Flux's design rather than a fault: a ``HelmRepository`` of ``type: oci`` is a
static object that no controller reconciles, so it never carries a ``Ready`` condition (its
status is the CRD default ``observedGeneration: -1``); kstatus would call it in progress forever.

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


def _static(obj: Mapping[str, Any]) -> bool:
    """Tell whether Flux leaves ``obj`` unreconciled by design (see the module docstring)."""
    spec = obj.get("spec") or {}
    return obj.get("kind") == "HelmRepository" and spec.get("type") == "oci"


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
                if not _static(obj):
                    problems.extend(violations(obj))
    return problems

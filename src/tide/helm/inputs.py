"""What a HelmRelease reads besides its chart: values from ConfigMaps and Secrets, dependencies.

Values objects are read from the HelmRelease's own namespace (``valuesFrom`` has no namespace
field). A Secret's content never reaches a message: errors name the object and key only.
"""

from __future__ import annotations

import base64
import binascii

from tide.api.helm import HelmRelease
from tide.helm.values import DEFAULT_VALUES_KEY, ValuesDocument, ValuesError
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.runtime import dependencies

__all__ = ["dependency_cycle", "dependency_not_ready", "values_documents"]


async def values_documents(release: HelmRelease, client: KubeClient) -> list[ValuesDocument]:
    """Read every ``valuesFrom`` entry, in order; skip missing ``optional`` ones.

    Raises:
        ValuesError: a required object or key is missing (both named).
    """
    namespace = release.metadata.namespace or "default"
    documents = []
    for ref in release.spec.values_from or []:
        rt = resources.SECRET if ref.kind == "Secret" else resources.CONFIG_MAP
        key = ref.values_key or DEFAULT_VALUES_KEY
        where = f"{ref.kind} '{namespace}/{ref.name}'"
        obj = await client.get_or_none(rt, ref.name, namespace=namespace)
        if obj is None:
            if ref.optional:
                continue
            raise ValuesError(f"could not find {where} (spec.valuesFrom)")
        text = _read(obj, key, secret=ref.kind == "Secret", where=where)
        if text is None:
            if ref.optional:
                continue
            raise ValuesError(f"missing key '{key}' in {where} (spec.valuesFrom)")
        documents.append(ValuesDocument(f"key '{key}' in {where}", text, ref.target_path))
    return documents


def _read(obj: dict, key: str, *, secret: bool, where: str) -> str | None:
    data = obj.get("data") or {}
    if key in data:
        if not secret:
            return data[key]
        try:
            return base64.b64decode(data[key]).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ValuesError(f"key '{key}' in {where} is not UTF-8 text") from None
    binary = obj.get("binaryData") or {}
    if not secret and key in binary:
        return base64.b64decode(binary[key]).decode(errors="replace")
    return None


def dependency_not_ready(
    release: HelmRelease, helm_releases: WatchCache, kustomizations: WatchCache | None = None
) -> str | None:
    """Return why the first unready ``dependsOn`` entry blocks us, or None when all are ready.

    The rule is :func:`tide.runtime.dependencies.dependency_not_ready`'s, shared with
    Kustomizations; an entry with ``kind: Kustomization`` (a Tide extension) is looked up in
    ``kustomizations`` and must also have applied the revision it last attempted.
    """
    start = (release.metadata.namespace or "default", release.metadata.name)
    spec = release.spec.model_dump(by_alias=True, exclude_none=True)
    caches = {"HelmRelease": helm_releases, "Kustomization": kustomizations}
    return dependencies.dependency_not_ready(start, spec, caches, kind="HelmRelease")


def dependency_cycle(release: HelmRelease, helm_releases: WatchCache) -> list[tuple[str, str]]:
    """Return a ``dependsOn`` path of HelmReleases from ``release`` back to itself, or ``[]``.

    Such a set can never become ready, so it is named rather than waited on for ever; each
    member reports the cycle from its own place.
    """
    start = (release.metadata.namespace or "default", release.metadata.name)
    spec = release.spec.model_dump(by_alias=True, exclude_none=True)
    return dependencies.dependency_cycle(start, spec, helm_releases, kind="HelmRelease")

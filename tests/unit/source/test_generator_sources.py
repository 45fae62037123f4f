"""ArtifactGenerator sources: found in the caches, refused across namespaces, digested."""

from __future__ import annotations

from typing import Any

import pytest

from tide.api.generator import ArtifactGenerator, OutputArtifact
from tide.runtime.steps import Stalled, StepFailed
from tide.source.generator.sources import (
    ObservedSource,
    observe_sources,
    revisions,
    sources_digest,
)

pytestmark = pytest.mark.unit


class _Cache:
    """What observe_sources reads from a watch cache: objects by namespace and name."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self._objects = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get((namespace, name))


def _git(namespace: str, name: str, *, digest: str | None = "sha256:aa") -> dict[str, Any]:
    status: dict[str, Any] = {}
    if digest:
        status["artifact"] = {
            "url": f"http://storage/gitrepository/{namespace}/{name}/x.tar.gz",
            "digest": digest,
            "revision": "main@sha1:1234",
            "path": "x",
            "lastUpdateTime": "2026-01-01T00:00:00Z",
        }
    return {"metadata": {"namespace": namespace, "name": name}, "status": status}


def _generator(namespace: str | None = None) -> ArtifactGenerator:
    source: dict[str, Any] = {"alias": "repo", "kind": "GitRepository", "name": "mono"}
    if namespace:
        source["namespace"] = namespace
    return ArtifactGenerator.model_validate({
        "metadata": {"name": "gen", "namespace": "apps", "generation": 1},
        "spec": {"sources": [source],
                 "artifacts": [{"name": "a", "copy": [{"from": "@repo/x", "to": "@artifact/"}]}]},
    })  # fmt: skip


def _observe(generator: ArtifactGenerator, *objects: dict[str, Any], allow: bool = True) -> Any:
    caches: Any = {"GitRepository": _Cache(*objects)}
    return observe_sources(generator, caches, allow_cross_namespace=allow, retry_after=5.0)


def test_a_source_is_read_from_the_cache_with_its_artifact() -> None:
    [observed] = _observe(_generator(), _git("apps", "mono")).values()
    assert observed.where == "GitRepository 'apps/mono'"
    assert (observed.digest, observed.revision, observed.origin_revision) == (
        "sha256:aa",
        "main@sha1:1234",
        None,
    )


def test_a_missing_source_is_retried_with_the_field_named() -> None:
    with pytest.raises(StepFailed) as failed:
        _observe(_generator())
    assert failed.value.reason == "SourceFetchFailed" and failed.value.retry_after == 5.0
    assert str(failed.value) == (
        "get sources failed: GitRepository 'apps/mono' (spec.sources[0] (alias 'repo')) not found"
    )


def test_a_source_without_an_artifact_is_not_ready() -> None:
    with pytest.raises(StepFailed, match="is not ready: it has no artifact yet"):
        _observe(_generator(), _git("apps", "mono", digest=None))


def test_another_namespace_is_allowed_by_default_and_refused_when_disabled() -> None:
    generator = _generator("shared")
    assert set(_observe(generator, _git("shared", "mono"))) == {"repo"}
    with pytest.raises(Stalled) as refused:
        _observe(generator, _git("shared", "mono"), allow=False)
    assert refused.value.reason == "AccessDenied"
    assert str(refused.value) == (
        "can't access 'GitRepository/shared/mono', cross-namespace references have been blocked"
    )


def _source(alias: str, digest: str, origin: str | None = None) -> ObservedSource:
    return ObservedSource(alias, f"GitRepository 'ns/{alias}'", "u", digest, f"r-{digest}", origin)


def test_the_sources_digest_moves_with_any_artifact_and_not_with_order() -> None:
    one, two = _source("a", "sha256:1"), _source("b", "sha256:2")
    assert sources_digest({"a": one, "b": two}) == sources_digest({"b": two, "a": one})
    assert sources_digest({"a": one, "b": two}) != sources_digest(
        {"a": one, "b": _source("b", "sha256:3")}
    )


def test_revision_is_the_content_digest_unless_a_source_is_named() -> None:
    observed = {"repo": _source("repo", "sha256:1", origin="main@sha1:abc")}
    plain = OutputArtifact.model_validate(
        {"name": "a", "copy": [{"from": "@repo/x", "to": "@artifact/"}]}
    )
    assert revisions(plain, observed, "sha256:ff") == ("latest@sha256:ff", {})
    pinned = OutputArtifact.model_validate({
        "name": "a", "revision": "@repo", "originRevision": "@repo",
        "copy": [{"from": "@repo/x", "to": "@artifact/"}],
    })  # fmt: skip
    assert revisions(pinned, observed, "sha256:ff") == (
        "r-sha256:1",
        {"org.opencontainers.image.revision": "main@sha1:abc"},
    )

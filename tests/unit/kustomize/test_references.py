"""A locked-down Kustomization names only its own namespace in ``sourceRef`` and ``dependsOn``."""

from __future__ import annotations

from typing import Any

import pytest

from tide.api.kustomize import Kustomization
from tide.kustomize.inputs import check_references, dependents
from tide.runtime.acl import AccessDenied, ReferencePolicy

pytestmark = pytest.mark.unit

LOCKED = ReferencePolicy(no_cross_namespace_refs=True)


def kustomization(
    *, source: dict[str, Any] | None = None, depends_on: list[dict[str, Any]] | None = None
) -> Kustomization:
    return Kustomization.model_validate({
        "metadata": {"name": "apps", "namespace": "tenant-b"},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": source or {"kind": "GitRepository", "name": "fleet"},
            **({"dependsOn": depends_on} if depends_on else {}),
        },
    })  # fmt: skip


def denial(obj: Kustomization) -> str:
    with pytest.raises(AccessDenied) as caught:
        check_references(obj, LOCKED)
    return str(caught.value)


@pytest.mark.parametrize("kind", ["GitRepository", "OCIRepository", "Bucket", "ExternalArtifact"])
def test_a_source_in_another_namespace_is_denied(kind: str) -> None:
    obj = kustomization(source={"kind": kind, "name": "private", "namespace": "tenant-a"})

    assert denial(obj) == (
        f"can't access '{kind}/tenant-a/private', cross-namespace references have been blocked"
    )


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"name": "infra", "namespace": "tenant-a"}, "Kustomization/tenant-a/infra"),
        (
            {"kind": "Kustomization", "name": "infra", "namespace": "tenant-a"},
            "Kustomization/tenant-a/infra",
        ),
        ({"kind": "HelmRelease", "name": "db", "namespace": "tenant-a"}, "HelmRelease/tenant-a/db"),
    ],
)
def test_a_dependency_in_another_namespace_is_denied(entry: dict[str, Any], named: str) -> None:
    obj = kustomization(depends_on=[{"name": "local"}, entry])

    assert denial(obj) == f"can't access '{named}', cross-namespace references have been blocked"


def test_references_within_the_namespace_pass() -> None:
    obj = kustomization(
        source={"kind": "GitRepository", "name": "fleet", "namespace": "tenant-b"},
        depends_on=[{"name": "infra"}, {"name": "db", "namespace": "tenant-b"}],
    )

    check_references(obj, LOCKED)


def test_without_the_lockdown_cross_namespace_references_pass() -> None:
    obj = kustomization(
        source={"kind": "GitRepository", "name": "fleet", "namespace": "flux-system"},
        depends_on=[{"kind": "HelmRelease", "name": "db", "namespace": "tenant-a"}],
    )

    check_references(obj, ReferencePolicy())


class Objects:
    def __init__(self, *objects: dict[str, Any]) -> None:
        self._objects = objects

    def scan(self) -> list[dict[str, Any]]:
        return list(self._objects)


def test_another_tenants_dependents_cannot_hold_up_a_deletion_when_locked_down() -> None:
    infra = Kustomization.model_validate({
        "metadata": {"name": "infra", "namespace": "tenant-a"},
        "spec": {"interval": "1m", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip
    own = {"metadata": {"name": "apps", "namespace": "tenant-a"},
           "spec": {"dependsOn": [{"name": "infra"}]}}  # fmt: skip
    foreign = {"metadata": {"name": "squatter", "namespace": "tenant-b"},
               "spec": {"dependsOn": [{"name": "infra", "namespace": "tenant-a"}]}}  # fmt: skip
    cache = Objects(own, foreign)

    assert dependents(infra, cache) == [("tenant-a", "apps"), ("tenant-b", "squatter")]
    assert dependents(infra, cache, policy=LOCKED) == [("tenant-a", "apps")]

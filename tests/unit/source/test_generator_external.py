"""Which ExternalArtifacts a generator may treat as its own (and so delete or rewrite)."""

from __future__ import annotations

from typing import Any

import pytest

from tide.api.keys import MANAGED_BY_LABEL
from tide.source.generator.external import ExternalArtifacts

pytestmark = pytest.mark.unit

GENERATOR = {"metadata": {"name": "gen", "namespace": "tenant-a", "uid": "u1"}}
OURS = {"kind": "ArtifactGenerator", "name": "gen", "namespace": "tenant-a"}


class _Cache:
    def __init__(self, *objects: dict[str, Any]) -> None:
        self._objects = objects

    def scan(self) -> list[dict[str, Any]]:
        return list(self._objects)


def _external(namespace: str, name: str, *, source_ref: dict, managed: str | None) -> dict:
    labels = {MANAGED_BY_LABEL: managed} if managed else {}
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"sourceRef": source_ref},
    }


def _owned(*objects: dict[str, Any]) -> list[tuple[str, str]]:
    externals = ExternalArtifacts(
        client=None,  # type: ignore[arg-type]
        cache=_Cache(*objects),  # type: ignore[arg-type]
        storage=None,  # type: ignore[arg-type]
        component="source-watcher",
    )
    owned = externals.owned_by(GENERATOR)
    return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in owned]


def test_a_generator_owns_what_it_wrote_in_its_own_namespace() -> None:
    assert _owned(_external("tenant-a", "apps", source_ref=OURS, managed="source-watcher")) == [
        ("tenant-a", "apps")
    ]


def test_another_tenant_cannot_claim_the_generator_as_its_source() -> None:
    # Were it owned, the generator would delete tenant-a's object of the same name.
    spoof = _external("tenant-b", "prod-config", source_ref=OURS, managed="source-watcher")
    assert _owned(spoof) == []


def test_an_object_another_producer_wrote_is_not_ours() -> None:
    by_hand = _external("tenant-a", "apps", source_ref=OURS, managed=None)
    other = _external(
        "tenant-a", "infra", source_ref={**OURS, "name": "other"}, managed="source-watcher"
    )
    assert _owned(by_hand, other) == []

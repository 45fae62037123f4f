"""``dependsOn`` cycles are named, from each member's own place, instead of waited on forever."""

from __future__ import annotations

from typing import Any

import pytest

from tide.api.kustomize import Kustomization
from tide.kustomize.inputs import dependency_cycle, dependency_not_ready

pytestmark = pytest.mark.unit


def kustomization(name: str, *depends: str, namespace: str = "apps") -> dict[str, Any]:
    refs = []
    for entry in depends:
        ns, _, dep = entry.rpartition("/")
        refs.append({"name": dep, **({"namespace": ns} if ns else {})})
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace, "generation": 1},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            **({"dependsOn": refs} if refs else {}),
        },
    }


class Objects:
    """What the pipeline reads from its watch cache: objects by namespace and name."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self._by_key = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._by_key.get((namespace, name))


def parsed(obj: dict[str, Any]) -> Kustomization:
    return Kustomization.model_validate(obj)


def test_a_two_member_cycle_is_named_from_each_side() -> None:
    a, b = kustomization("a", "b"), kustomization("b", "a")
    cache = Objects(a, b)
    assert dependency_cycle(parsed(a), cache) == [("apps", "a"), ("apps", "b"), ("apps", "a")]
    assert dependency_cycle(parsed(b), cache) == [("apps", "b"), ("apps", "a"), ("apps", "b")]
    assert dependency_not_ready(parsed(a), cache) == (
        "dependency cycle: 'apps/a' -> 'apps/b' -> 'apps/a'"
    )


def test_a_longer_cycle_across_namespaces_and_a_self_dependency() -> None:
    a = kustomization("a", "infra/b")
    b = kustomization("b", "apps/c", namespace="infra")
    c = kustomization("c", "a")
    cache = Objects(a, b, c)
    assert dependency_cycle(parsed(a), cache) == [
        ("apps", "a"), ("infra", "b"), ("apps", "c"), ("apps", "a"),
    ]  # fmt: skip
    itself = kustomization("self", "self")
    assert dependency_cycle(parsed(itself), Objects(itself)) == [("apps", "self")] * 2


def test_a_cycle_not_through_this_kustomization_is_left_to_its_members() -> None:
    a = kustomization("a", "b")
    b, c = kustomization("b", "c"), kustomization("c", "b")
    assert dependency_cycle(parsed(a), Objects(a, b, c)) == []


def test_a_diamond_is_not_a_cycle_and_missing_dependencies_end_a_path() -> None:
    a = kustomization("a", "b", "c")
    b, c = kustomization("b", "d"), kustomization("c", "d")
    d = kustomization("d", "missing")
    assert dependency_cycle(parsed(a), Objects(a, b, c, d)) == []

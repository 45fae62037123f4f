"""A ``dependsOn`` cycle through an object is found from each member, and only then; an entry
blocks until it is Ready for its current generation (and, a Kustomization, done applying)."""

from __future__ import annotations

from typing import Any

import pytest

from tide.runtime.dependencies import dependency_cycle, dependency_not_ready

pytestmark = pytest.mark.unit


class _Cache:
    def __init__(self, specs: dict[tuple[str, str], dict[str, Any]]) -> None:
        self._specs = specs

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        spec = self._specs.get((namespace, name))
        return None if spec is None else {"spec": spec}


def _on(*names: str, kind: str | None = None) -> dict[str, Any]:
    entries = [{"name": n, **({"kind": kind} if kind else {})} for n in names]
    return {"dependsOn": entries}


SPECS = {("apps", "a"): _on("b"), ("apps", "b"): _on("c"), ("apps", "c"): _on("a")}


def test_each_member_names_the_cycle_from_its_own_place() -> None:
    cache = _Cache(SPECS)
    found = dependency_cycle(("apps", "b"), SPECS[("apps", "b")], cache, kind="Kustomization")
    assert found == [("apps", "b"), ("apps", "c"), ("apps", "a"), ("apps", "b")]


def test_a_chain_that_ends_is_no_cycle() -> None:
    specs = {("apps", "a"): _on("b"), ("apps", "b"): {}}
    assert dependency_cycle(("apps", "a"), specs[("apps", "a")], _Cache(specs), kind="K") == []


def test_entries_of_another_kind_are_not_followed() -> None:
    specs = {("apps", "a"): _on("b", kind="HelmRelease"), ("apps", "b"): _on("a")}
    cache = _Cache(specs)
    assert dependency_cycle(("apps", "a"), specs[("apps", "a")], cache, kind="Kustomization") == []


class _Objects:
    def __init__(self, *objects: dict[str, Any]) -> None:
        self._by_key = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._by_key.get((namespace, name))


def _dependency(
    name: str, *, ready: str = "True", observed: int = 2, applied: str = "r1", attempted: str = "r1"
) -> dict[str, Any]:
    condition = {"type": "Ready", "status": ready, "observedGeneration": observed}
    return {
        "metadata": {"namespace": "apps", "name": name, "generation": 2},
        "status": {
            "conditions": [condition],
            "lastAppliedRevision": applied,
            "lastAttemptedRevision": attempted,
        },
    }


def _blocked(spec: dict[str, Any], *objects: dict[str, Any], helm: _Objects | None) -> str | None:
    caches = {"Kustomization": _Objects(*objects), "HelmRelease": helm}
    return dependency_not_ready(("apps", "a"), spec, caches, kind="Kustomization")


def test_ready_dependencies_of_both_kinds_block_nothing() -> None:
    spec = {"dependsOn": [{"name": "db"}, {"name": "redis", "kind": "HelmRelease"}]}
    helm = _Objects(_dependency("redis", applied="", attempted="r9"))
    assert _blocked(spec, _dependency("db"), helm=helm) is None


@pytest.mark.parametrize(
    ("dependency", "expected"),
    [
        (_dependency("db", ready="False"), "dependency 'apps/db' is not ready"),
        (_dependency("db", observed=1), "dependency 'apps/db' is not ready"),
        (
            _dependency("db", attempted="r2"),
            "dependency 'apps/db' is not ready: revision r2 pending",
        ),
        (_dependency("other"), "dependency 'apps/db' not found"),
    ],
)
def test_the_first_unready_dependency_is_named(dependency: dict[str, Any], expected: str) -> None:
    assert _blocked({"dependsOn": [{"name": "db"}]}, dependency, helm=None) == expected


def test_an_entry_of_the_other_kind_is_named_with_its_kind() -> None:
    spec = {"dependsOn": [{"name": "redis", "namespace": "data", "kind": "HelmRelease"}]}
    assert _blocked(spec, helm=None) == "HelmRelease dependency 'data/redis' not found"


def test_a_cycle_is_named_before_readiness() -> None:
    other = {**_dependency("b"), "spec": {"dependsOn": [{"name": "a"}]}}
    assert _blocked({"dependsOn": [{"name": "b"}]}, other, helm=None) == (
        "dependency cycle: 'apps/a' -> 'apps/b' -> 'apps/a'"
    )

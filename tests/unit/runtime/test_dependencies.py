"""A ``dependsOn`` cycle through an object is found from each member, and only then."""

from __future__ import annotations

from typing import Any

import pytest

from tide.runtime.dependencies import dependency_cycle

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

"""Every public module says what it exports, and says it tidily.

``__all__`` must be sorted the way ruff's RUF022 sorts it (the project's lint): SCREAMING_CASE
constants first, then CamelCase classes, then everything else, each group in natural order.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import tide

pytestmark = pytest.mark.unit

SKIPPED_PREFIXES = ("tide.testing.gomod",)


def _is_public(name: str) -> bool:
    parts = name.split(".")
    return not any(part.startswith("_") for part in parts) and not name.startswith(SKIPPED_PREFIXES)


def _walk() -> list[tuple[str, bool]]:
    found = [("tide", True)]
    for info in pkgutil.walk_packages(tide.__path__, prefix="tide."):
        if _is_public(info.name):
            found.append((info.name, info.ispkg))
    return sorted(found)


MODULES = _walk()
MODULE_NAMES = [name for name, _ in MODULES]
PACKAGE_NAMES = [name for name, is_package in MODULES if is_package]


def _import(name: str) -> ModuleType:
    return importlib.import_module(name)


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    """RUF022's "isort-style" order: casing group first, then natural order within it."""
    if len(name) > 1 and name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return group, natural


def test_the_walk_finds_the_runtime_and_skips_private_modules() -> None:
    assert "tide.runtime.queue" in MODULE_NAMES
    assert "tide.api.conditions" in PACKAGE_NAMES
    assert not any("._" in name for name in MODULE_NAMES)


def test_isort_key_orders_constants_then_classes_then_the_rest() -> None:
    names = ["find_kind", "KindInfo", "KINDS", "ABC", "Abc", "abc", "v10", "v9"]

    assert sorted(names, key=_isort_key) == [
        "ABC",
        "KINDS",
        "Abc",
        "KindInfo",
        "abc",
        "find_kind",
        "v9",
        "v10",
    ]


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_public_module_declares_all(name: str) -> None:
    module = _import(name)

    assert hasattr(module, "__all__"), f"{name} has no __all__"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_all_is_sorted(name: str) -> None:
    exported = getattr(_import(name), "__all__", None)
    if exported is None:
        pytest.skip(f"{name} has no __all__ (test_public_module_declares_all reports it)")

    assert list(exported) == sorted(exported, key=_isort_key)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_all_has_no_duplicates(name: str) -> None:
    exported = getattr(_import(name), "__all__", None)
    if exported is None:
        pytest.skip(f"{name} has no __all__ (test_public_module_declares_all reports it)")

    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_every_name_in_all_exists(name: str) -> None:
    module = _import(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        pytest.skip(f"{name} has no __all__ (test_public_module_declares_all reports it)")

    missing = [attr for attr in exported if not hasattr(module, attr)]

    assert missing == []


@pytest.mark.parametrize("name", PACKAGE_NAMES)
def test_package_init_has_a_module_docstring(name: str) -> None:
    doc = _import(name).__doc__

    assert doc is not None
    assert doc.strip()

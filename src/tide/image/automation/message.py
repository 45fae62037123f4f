"""The data commit-message (and push-branch) templates see, and their rendering.

Flux's templates read ``.AutomationObject``, ``.Changed`` and ``.Values``. The data reaches Go's
engine as JSON (see :mod:`tide.gotemplate`), so Go structs become maps and one thing differs:
Flux keys ``.Changed.Objects`` (and each file's entry in ``.Changed.FileChanges``) by an object
identifier struct, and JSON map keys are strings. Here the key is the object's
``Kind/namespace/name`` (``Kind/name`` when the document names no namespace), so
``{{ range $object, $changes := .Changed.Objects }}{{ $object }}…`` works, but
``$object.Kind`` does not. ``.AutomationObject`` is a map with ``Name`` and ``Namespace``, so
``{{ .AutomationObject.Name }}`` works as in Flux.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tide import gotemplate
from tide.image.automation.setters import Change
from tide.image.automation.update import UpdateResult

__all__ = ["DEFAULT_MESSAGE", "render", "template_data"]

DEFAULT_MESSAGE = "Update from image update automation"
"""The commit message when ``spec.git.commit.messageTemplate`` is unset (Flux's)."""


def template_data(
    result: UpdateResult,
    *,
    name: str,
    namespace: str,
    values: Mapping[str, str] | None,
) -> dict[str, Any]:
    """Return the template data for ``result``: ``AutomationObject``, ``Changed``, ``Values``."""
    files: dict[str, dict[str, list[dict[str, str]]]] = {}
    objects: dict[str, list[dict[str, str]]] = {}
    changes: list[dict[str, str]] = []
    for path in sorted(result.files):
        per_file = files.setdefault(path, {})
        for obj, change in result.files[path]:
            item = _change(change)
            per_file.setdefault(obj.key(), []).append(item)
            objects.setdefault(obj.key(), []).append(item)
            changes.append(item)
    return {
        "AutomationObject": {"Name": name, "Namespace": namespace},
        "Changed": {"FileChanges": files, "Objects": objects, "Changes": changes},
        "Values": dict(values or {}),
    }


def render(template: str | None, data: Mapping[str, Any]) -> str:
    """Render ``template`` (the default message when None or empty) against ``data``.

    Raises:
        gotemplate.TemplateError: Go's parse or execution error.
    """
    if not template:
        return DEFAULT_MESSAGE
    return gotemplate.render(template, data)


def _change(change: Change) -> dict[str, str]:
    return {"OldValue": change.old_value, "NewValue": change.new_value, "Setter": change.setter}

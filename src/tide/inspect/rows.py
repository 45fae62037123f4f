"""Turn Flux objects into the rows ``tide get`` prints, with Flux's columns per kind.

Pure: objects in, rows out, so the columns are unit-tested without a cluster. Every kind shows
NAME, SUSPENDED, READY and MESSAGE like ``flux get``; what sits between them depends on the kind
(REVISION for sources, Kustomizations and HelmReleases; LAST SCAN for an ImageRepository;
IMAGE and TAG for an ImagePolicy; LAST RUN for an ImageUpdateAutomation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tide.api.conditions import getter

__all__ = ["Row", "StatusSelector", "columns_for", "row_of", "table_cells"]

Extractor = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Row:
    """One object as ``get`` shows it."""

    kind: str
    namespace: str
    name: str
    ready: str
    """``True``, ``False`` or ``Unknown``; ``True`` for kinds without status (v1beta3 Alert)."""
    message: str
    suspended: bool
    extra: dict[str, str] = field(default_factory=dict)
    """The kind's own columns, by title (``REVISION``, ``LAST SCAN``, …)."""

    def as_json(self) -> dict[str, Any]:
        """Return the row for ``-o json|yaml``: stable lower-case keys a script can read."""
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            **{title.lower().replace(" ", "_"): value for title, value in self.extra.items()},
            "suspended": self.suspended,
            "ready": self.ready,
            "message": self.message,
        }


def _path(obj: Mapping[str, Any], *keys: str) -> Any:
    value: Any = obj
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _artifact_revision(obj: Mapping[str, Any]) -> str:
    return _text(_path(obj, "status", "artifact", "revision"))


def _helm_revision(obj: Mapping[str, Any]) -> str:
    history = _path(obj, "status", "history") or []
    if history and isinstance(history[0], Mapping):
        return _text(history[0].get("chartVersion"))
    return _text(_path(obj, "status", "lastAttemptedRevision"))


def _policy_image(obj: Mapping[str, Any]) -> str:
    ref = _path(obj, "status", "latestRef") or {}
    if ref.get("name"):
        return f"{ref['name']}:{ref.get('tag', '')}"
    return _text(_path(obj, "status", "latestImage"))


_EXTRA: dict[str, tuple[tuple[str, Extractor], ...]] = {
    "Kustomization": (("REVISION", lambda o: _text(_path(o, "status", "lastAppliedRevision"))),),
    "HelmRelease": (("REVISION", _helm_revision),),
    "ImageRepository": (
        ("LAST SCAN", lambda o: _text(_path(o, "status", "lastScanResult", "scanTime"))),
    ),
    "ImagePolicy": (("IMAGE", _policy_image),),
    "ImageUpdateAutomation": (
        ("LAST RUN", lambda o: _text(_path(o, "status", "lastAutomationRunTime"))),
    ),
    "Alert": (),
    "Provider": (),
    "Receiver": (),
}
_DEFAULT_EXTRA: tuple[tuple[str, Extractor], ...] = (("REVISION", _artifact_revision),)


def columns_for(kind: str) -> tuple[str, ...]:
    """Return the column titles ``get`` prints for ``kind`` (without NAMESPACE)."""
    extra = tuple(title for title, _ in _EXTRA.get(kind, _DEFAULT_EXTRA))
    return ("NAME", *extra, "SUSPENDED", "READY", "MESSAGE")


def row_of(obj: Mapping[str, Any], *, has_status: bool = True) -> Row:
    """Return the row of ``obj`` (a Flux object as the API server returns it)."""
    kind = _text(obj.get("kind"))
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    ready_condition = getter.find(status, "Ready")
    if ready_condition is not None:
        ready = _text(ready_condition.get("status")) or "Unknown"
        message = _text(ready_condition.get("message"))
    elif has_status:
        ready, message = "Unknown", "waiting to be reconciled"
    else:  # v1beta3 Alerts and Providers have no status: there is nothing to be unready about
        ready, message = "True", ""
    extra = {title: read(obj) for title, read in _EXTRA.get(kind, _DEFAULT_EXTRA)}
    return Row(
        kind=kind,
        namespace=_text(metadata.get("namespace")),
        name=_text(metadata.get("name")),
        ready=ready,
        message=" ".join(message.split()),
        suspended=bool(_path(obj, "spec", "suspend")),
        extra=extra,
    )


@dataclass(frozen=True)
class StatusSelector:
    """``--status-selector ready=false``: keep rows whose condition has that status."""

    condition: str
    status: str

    @classmethod
    def parse(cls, text: str) -> StatusSelector:
        """Parse ``<condition>=<true|false|unknown>``.

        Raises:
            ValueError: the text is not of that form.
        """
        condition, equals, status = text.partition("=")
        if not equals or condition.strip().lower() != "ready":
            raise ValueError(f"status selector {text!r}: expected ready=true|false|unknown")
        value = status.strip().lower()
        if value not in {"true", "false", "unknown"}:
            raise ValueError(f"status selector {text!r}: expected ready=true|false|unknown")
        return cls("Ready", value)

    def keeps(self, row: Row) -> bool:
        """Return whether ``row`` matches."""
        return row.ready.lower() == self.status


def table_cells(row: Row, *, with_namespace: bool, prefix: str = "") -> Sequence[str]:
    """Return ``row``'s cells in column order (``prefix`` goes before the name in ``get all``)."""
    cells = [f"{prefix}{row.name}", *row.extra.values(), str(row.suspended), row.ready, row.message]
    return [row.namespace, *cells] if with_namespace else cells

"""What one apply or delete did, object by object, in the words Flux's events and inventory use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Action",
    "ChangeSet",
    "ChangeSetEntry",
    "ObjectRef",
    "object_id",
    "subject",
]


class Action(StrEnum):
    """What happened to one object; closed, so callers can match on every case."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class ObjectRef:
    """One object's identity as Flux's inventory writes it (cli-utils ``ObjMetadata``)."""

    namespace: str
    name: str
    group: str
    kind: str

    @property
    def id(self) -> str:
        """Return ``<ns>_<name>_<group>_<kind>``; colons in names become ``__`` as in cli-utils."""
        return "_".join((self.namespace, self.name.replace(":", "__"), self.group, self.kind))

    @classmethod
    def parse(cls, inventory_id: str) -> ObjectRef:
        """Read an inventory id back (the inverse of :attr:`id`).

        Raises:
            ValueError: the id does not have Flux's four parts.
        """
        # Namespaces, groups and kinds never contain "_", and names only as an escaped colon, so
        # the namespace is before the first "_", the group and kind after the last two.
        namespace, sep, rest = inventory_id.partition("_")
        if not sep:
            raise ValueError(f"not an inventory id: {inventory_id!r}")
        name_and_group, sep, kind = rest.rpartition("_")
        name, sep2, group = name_and_group.rpartition("_")
        if not sep or not sep2 or not name or not kind:
            raise ValueError(f"not an inventory id: {inventory_id!r}")
        return cls(namespace, name.replace("__", ":"), group, kind)

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        """Return the ref of a manifest or live object."""
        metadata = obj.get("metadata") or {}
        group = obj.get("apiVersion", "").rpartition("/")[0]
        return cls(metadata.get("namespace") or "", metadata.get("name", ""), group, obj["kind"])

    @property
    def subject(self) -> str:
        """Return ``Kind/ns/name`` (``Kind/name`` when cluster-scoped), as Flux's events do."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)


def object_id(obj: Mapping[str, Any]) -> str:
    """Return the inventory id of a manifest."""
    return ObjectRef.of(obj).id


def subject(obj: Mapping[str, Any]) -> str:
    """Return ``Kind/ns/name`` of a manifest."""
    return ObjectRef.of(obj).subject


@dataclass(frozen=True)
class ChangeSetEntry:
    """One object's outcome; ``message`` holds the API server's own words when it failed."""

    id: str
    subject: str
    action: Action
    version: str = ""
    message: str = ""
    stored: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The object as the API server holds it after this apply, when the apply read it; a
    health check starts from it instead of reading it again."""

    def __str__(self) -> str:
        text = f"{self.subject} {self.action}"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class ChangeSet:
    """The outcome of one apply or delete, in the order objects were handled."""

    entries: list[ChangeSetEntry] = field(default_factory=list)

    def add(self, entry: ChangeSetEntry) -> None:
        """Record one object's outcome."""
        self.entries.append(entry)

    def extend(self, other: ChangeSet) -> None:
        """Record every outcome of another change set after ours."""
        self.entries.extend(other.entries)

    def __iter__(self) -> Iterator[ChangeSetEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def by_action(self, *actions: Action) -> list[ChangeSetEntry]:
        """Return the entries whose action is one of ``actions``."""
        return [entry for entry in self.entries if entry.action in actions]

    @property
    def failed(self) -> list[ChangeSetEntry]:
        """Return the entries that failed."""
        return self.by_action(Action.FAILED)

    @property
    def changed(self) -> bool:
        """Whether anything was written (Flux emits an event only then)."""
        return bool(self.by_action(Action.CREATED, Action.CONFIGURED, Action.DELETED))

    def to_inventory(self) -> list[dict[str, str]]:
        """Return Flux's ``status.inventory.entries`` for the objects now in the cluster.

        Failed and deleted objects are left out: the reconciler merges in the previous
        inventory's entries for failures, so what was applied before stays tracked. Skipped
        objects stay in, as in Flux, so they are not pruned.
        """
        kept = [e for e in self.entries if e.action not in (Action.FAILED, Action.DELETED)]
        return [{"id": e.id, "v": e.version} for e in sorted(kept, key=lambda e: e.id)]

    def summary(self, *, include_unchanged: bool = False) -> str:
        """Return Flux's event message: one ``Kind/ns/name action`` line per object."""
        shown = (e for e in self.entries if include_unchanged or e.action is not Action.UNCHANGED)
        return "\n".join(str(e) for e in shown)

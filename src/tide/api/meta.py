"""Shared building blocks for Tide's typed Flux models.

Everything here mirrors a type from ``k8s.io/apimachinery`` (``metav1``) or ``fluxcd/pkg/apis``
so that every kind module speaks the same wire format: camelCase JSON names, the same
patterns and enums, and the same required fields the API server enforces through the CRDs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "DURATION_PATTERN",
    "TIMEOUT_PATTERN",
    "APIVersions",
    "Artifact",
    "CelRule",
    "Condition",
    "CrossNamespaceSourceReference",
    "Duration",
    "FluxModel",
    "FluxObject",
    "JSONObject",
    "JSONValue",
    "LocalObjectReference",
    "NamespacedObjectKindReference",
    "NamespacedObjectReference",
    "ObjectMeta",
    "ReconcileStatus",
    "SecretKeyReference",
    "SuspendableSpec",
    "Time",
    "TimeoutDuration",
    "cel_rules",
    "format_duration",
    "parse_duration",
]

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
"""Flux's pattern for ``metav1.Duration`` fields (intervals, most timeouts)."""
TIMEOUT_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"
"""Flux's stricter pattern for network timeouts, which refuse hours."""

Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
"""A Go duration string such as ``1m30s``; validated like the CRD does."""
TimeoutDuration = Annotated[str, StringConstraints(pattern=TIMEOUT_PATTERN)]
"""A Go duration without hours, as Flux demands for source fetch timeouts."""
Time = Annotated[datetime, Strict(False)]
"""An RFC 3339 timestamp (``metav1.Time``); accepts strings even though models are strict."""
JSONValue = Annotated[Any, WithJsonSchema({"x-kubernetes-preserve-unknown-fields": True})]
"""Arbitrary JSON (``apiextensionsv1.JSON``); the API server keeps it verbatim."""
JSONObject = Annotated[
    dict[str, Any], WithJsonSchema({"x-kubernetes-preserve-unknown-fields": True})
]
"""Arbitrary JSON object such as Helm values; schema'd like ``apiextensionsv1.JSON``."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Return the number of seconds in a Flux duration such as ``1h30m`` or ``500ms``.

    Only the units Flux's CRD pattern allows are accepted, so a value that parses here is one the
    API server would have admitted.
    """
    if not isinstance(text, str) or not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(
            f"invalid duration {text!r}: expected a sequence of <number><unit> with unit "
            "one of ms, s, m, h (for example '30s', '1m30s', '1.5h')"
        )
    return sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(text))


def format_duration(seconds: float) -> str:
    """Return ``seconds`` as Go's ``time.Duration`` prints it (``5m0s``, ``1h0m0s``, ``500ms``).

    Status messages quote durations the way Flux's controllers do, so users and tools that read
    "with a timeout of 5m0s" see the same words from Tide.
    """
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{round(secs, 9):g}s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


class CelRule(NamedTuple):
    """A CEL rule of a CRD schema and the message the API server answers when it fails."""

    rule: str
    message: str


def cel_rules(*rules: CelRule) -> ConfigDict:
    """Return the ``model_config`` that puts CEL ``rules`` on a model's CRD schema.

    Every rule given here must also be enforced by a Python validator on the same model, raising
    the rule's ``message``, so the model refuses what the API server refuses, in its words.
    """
    validations = [{"rule": rule, "message": message} for rule, message in rules]
    return ConfigDict(json_schema_extra={"x-kubernetes-validations": validations})


class FluxModel(BaseModel):
    """Base of every Tide API model: camelCase on the wire, strict types, unknown keys ignored.

    Strict mode keeps ``"yes"`` from passing as a boolean, matching the API server; ``extra``
    is ignored rather than forbidden because the server prunes unknown fields silently.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        strict=True,
        use_attribute_docstrings=True,
    )

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Serialize by alias and drop unset optional fields, as Go's ``omitempty`` does."""
        kwargs.setdefault("by_alias", True)
        kwargs.setdefault("exclude_none", True)
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:  # type: ignore[override]
        """Serialize to JSON by alias without None values."""
        kwargs.setdefault("by_alias", True)
        kwargs.setdefault("exclude_none", True)
        return super().model_dump_json(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-compatible manifest form (what would be sent to the API server)."""
        return self.model_dump(mode="json")


class ObjectMeta(FluxModel):
    """The parts of ``metav1.ObjectMeta`` controllers read; other keys are kept as extras."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    """Name of the object, unique within its namespace."""
    generate_name: str | None = None
    """Prefix the API server uses to generate a name when ``name`` is empty."""
    namespace: str | None = None
    """Namespace the object lives in."""
    labels: dict[str, str] | None = None
    """Identifying key/value pairs used by selectors."""
    annotations: dict[str, str] | None = None
    """Non-identifying key/value pairs (e.g. reconcile requests)."""
    generation: int | None = None
    """Sequence number of the desired state, bumped by the API server on spec changes."""
    resource_version: str | None = None
    """Opaque version used for optimistic concurrency."""
    uid: str | None = None
    """Unique identifier assigned by the API server."""
    finalizers: list[str] | None = None
    """Keys that must be removed before the object is deleted."""
    creation_timestamp: Time | None = None
    """When the object was created."""
    deletion_timestamp: Time | None = None
    """When deletion was requested; set means the object is terminating."""

    @model_validator(mode="after")
    def _needs_a_name(self) -> ObjectMeta:
        if not self.name and not self.generate_name:
            raise ValueError("metadata.name or metadata.generateName is required")
        return self


class Condition(FluxModel):
    """One observation of an object's state, shaped exactly like ``metav1.Condition``."""

    type: Annotated[
        str,
        StringConstraints(
            max_length=316,
            pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
            r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        ),
    ]
    """Condition type in CamelCase, e.g. ``Ready``."""
    status: Literal["True", "False", "Unknown"]
    """Whether the condition holds."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """Generation the condition was computed for."""
    last_transition_time: Time
    """When the status last changed."""
    reason: Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
        ),
    ]
    """Machine-readable CamelCase reason for the last transition."""
    message: Annotated[str, StringConstraints(max_length=32768)]
    """Human-readable details about the transition."""


class LocalObjectReference(FluxModel):
    """Points at an object in the same namespace by name."""

    name: str
    """Name of the referent."""


class NamespacedObjectReference(FluxModel):
    """Points at an object by name, optionally in another namespace."""

    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; defaults to the referrer's namespace."""


class NamespacedObjectKindReference(FluxModel):
    """Points at a typed object, optionally in another namespace."""

    api_version: str | None = None
    """API version of the referent; the preferred version when omitted."""
    kind: str
    """Kind of the referent."""
    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; defaults to the referrer's namespace."""


class CrossNamespaceSourceReference(FluxModel):
    """Points at the source a Kustomization builds from."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"]
    """Kind of the referent."""
    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; defaults to the Kustomization's namespace."""


class SecretKeyReference(FluxModel):
    """Points at a Secret in the same namespace and, optionally, one of its keys."""

    name: str
    """Name of the Secret."""
    key: str | None = None
    """Key in the Secret; an implementation-specific default is used when omitted."""


class Artifact(FluxModel):
    """The output of a source reconcile: a tarball a controller serves over HTTP."""

    path: str
    """Path of the file relative to the storage root."""
    url: str
    """HTTP address the artifact can be fetched from."""
    revision: str
    """Revision in the origin, e.g. ``main@sha1:<commit>`` or a chart version."""
    digest: (
        Annotated[
            str, StringConstraints(pattern=r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
        ]
        | None
    ) = None
    """Digest of the file as ``<algorithm>:<checksum>``."""
    last_update_time: Time
    """When the artifact last changed."""
    size: int | None = None
    """Size of the file in bytes."""
    metadata: dict[str, str] | None = None
    """Upstream metadata such as OCI annotations."""


class SuspendableSpec(FluxModel):
    """Spec fields of every kind a user can pause (Flux's ``spec.suspend``)."""

    suspend: bool | None = None
    """Stop reconciling this object while true."""


class ReconcileStatus(FluxModel):
    """Status fields every reconciled Flux kind shares."""

    observed_generation: int | None = None
    """Last generation the controller acted on; -1 before the first reconcile."""
    conditions: list[Condition] | None = None
    """Current conditions (Ready, Reconciling, Stalled, ...)."""
    last_handled_reconcile_at: str | None = None
    """Value of the last reconcile-request annotation handled, to detect new requests."""


@dataclass(frozen=True)
class APIVersions:
    """The API group a kind lives in, its storage version and the older versions still served.

    Kinds of one group share one of these, so a group's name and versions are written once.
    """

    group: str
    """API group, e.g. ``source.toolkit.fluxcd.io``."""
    version: str
    """Storage version, e.g. ``v1``."""
    served: tuple[str, ...] = ()
    """Older versions served with the same schema (deprecated); none by default."""


SpecT = TypeVar("SpecT", bound=FluxModel)
StatusT = TypeVar("StatusT", bound=FluxModel)


class FluxObject(FluxModel, Generic[SpecT, StatusT]):
    """A complete Flux object; subclasses pin the group, version, kind, spec and status types.

    A kind sets ``API`` (an :class:`APIVersions` its group's kinds share); that pins ``GROUP``,
    ``VERSION`` and ``SERVED_VERSIONS``, and ``KIND`` is the class name, as a Flux kind is its Go
    type's name.
    """

    API: ClassVar[APIVersions | None] = None
    """Group and versions of the kind; a subclass that sets it pins the four names below."""
    GROUP: ClassVar[str] = ""
    """API group, e.g. ``source.toolkit.fluxcd.io``."""
    VERSION: ClassVar[str] = ""
    """Storage version, e.g. ``v1``."""
    KIND: ClassVar[str] = ""
    """Kind name, e.g. ``GitRepository``."""
    SERVED_VERSIONS: ClassVar[tuple[str, ...]] = ()
    """Older versions still served with the same schema."""

    api_version: str = ""
    """``group/version``; any served version of the kind is accepted."""
    kind: str = ""
    """Kind name; must match the model."""
    metadata: ObjectMeta
    """Object metadata."""
    spec: SpecT
    """Desired state."""
    status: StatusT | None = None
    """Observed state, written by the controller."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Pin the kind's group, versions and kind from an ``API`` the class itself sets."""
        super().__init_subclass__(**kwargs)
        api = cls.__dict__.get("API")
        if api is not None:
            cls.GROUP = api.group
            cls.VERSION = api.version
            cls.SERVED_VERSIONS = api.served
            cls.KIND = cls.__name__

    @classmethod
    def accepted_api_versions(cls) -> tuple[str, ...]:
        """Return every ``group/version`` this kind may be written with, storage first."""
        return tuple(f"{cls.GROUP}/{v}" for v in (cls.VERSION, *cls.SERVED_VERSIONS))

    @model_validator(mode="before")
    @classmethod
    def _default_type_meta(cls, data: Any) -> Any:
        """Fill apiVersion and kind when building an object in Python code."""
        if isinstance(data, dict) and cls.KIND:
            data = dict(data)
            if not data.get("apiVersion") and not data.get("api_version"):
                data["apiVersion"] = f"{cls.GROUP}/{cls.VERSION}"
            if not data.get("kind"):
                data["kind"] = cls.KIND
        return data

    @field_validator("api_version")
    @classmethod
    def _check_api_version(cls, value: str) -> str:
        if cls.KIND and value not in cls.accepted_api_versions():
            raise ValueError(
                f"apiVersion {value!r} is not served for {cls.KIND}; "
                f"expected one of {', '.join(cls.accepted_api_versions())}"
            )
        return value

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        if cls.KIND and value != cls.KIND:
            raise ValueError(f"kind {value!r} does not match {cls.KIND}")
        return value

"""Models of the ``image.toolkit.fluxcd.io`` kinds: scan registries, pick tags, commit updates."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from tide.api._shared import AccessFrom, LabelSelector
from tide.api._source_types import GitRepositoryRef
from tide.api.meta import (
    APIVersions,
    CelRule,
    Duration,
    FluxModel,
    FluxObject,
    LocalObjectReference,
    NamespacedObjectReference,
    ReconcileStatus,
    SuspendableSpec,
    Time,
    TimeoutDuration,
    cel_rules,
)

__all__ = [
    "AlphabeticalPolicy",
    "AutomationSourceReference",
    "CommitSpec",
    "CommitUser",
    "GitCheckoutSpec",
    "GitSpec",
    "ImagePolicy",
    "ImagePolicyChoice",
    "ImagePolicySpec",
    "ImagePolicyStatus",
    "ImageRef",
    "ImageRepository",
    "ImageRepositorySpec",
    "ImageRepositoryStatus",
    "ImageUpdateAutomation",
    "ImageUpdateAutomationSpec",
    "ImageUpdateAutomationStatus",
    "NumericalPolicy",
    "PushSpec",
    "ScanResult",
    "SemVerPolicy",
    "SigningKey",
    "TagFilter",
    "UpdateStrategy",
]

GROUP = "image.toolkit.fluxcd.io"
_V1 = APIVersions(GROUP, "v1", ("v1beta2",))
_SIG_TAGS = r"^.*\.sig$"
"""Cosign signature tags, excluded by default as Flux does."""


class ImageRepositorySpec(FluxModel):
    """Which image repository to scan for tags, and how to authenticate."""

    image: str
    """Image repository name, e.g. ``ghcr.io/stefanprodan/podinfo``."""
    interval: Duration
    """How often the repository is scanned."""
    timeout: TimeoutDuration | None = None
    """Timeout of a scan; ``interval`` by default."""
    secret_ref: LocalObjectReference | None = None
    """Docker-registry Secret with credentials."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy to use for the registry."""
    service_account_name: Annotated[str, StringConstraints(max_length=253)] | None = None
    """ServiceAccount whose image pull secrets are used."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``tls.crt``/``tls.key`` and/or ``ca.crt``."""
    suspend: bool | None = None
    """Stop scanning while true."""
    access_from: AccessFrom | None = None
    """Namespaces whose ImagePolicies may refer to this repository."""
    exclusion_list: list[str] = Field(
        default_factory=lambda: [_SIG_TAGS],
        max_length=25,
        json_schema_extra={"default": [_SIG_TAGS]},
    )
    """Regular expressions of tags not to store."""
    provider: Literal["generic", "aws", "azure", "gcp"] = "generic"
    """Authentication provider."""
    insecure: bool | None = None
    """Allow plain-HTTP registries."""


class ScanResult(FluxModel):
    """Summary of the last scan."""

    revision: str | None = None
    """Stable hash of the scanned tags."""
    tag_count: int
    """Number of tags found."""
    scan_time: Time | None = None
    """When the scan ran."""
    latest_tags: list[str] | None = None
    """Up to ten tags, sorted in descending order."""


class ImageRepositoryStatus(ReconcileStatus):
    """What the last scan found."""

    canonical_image_name: str | None = None
    """Image name with implied parts made explicit (e.g. ``docker.io/library/alpine``)."""
    last_scan_result: ScanResult | None = None
    """Result of the last scan."""
    observed_exclusion_list: list[str] | None = None
    """Exclusion list used for the last scan."""


class ImageRepository(FluxObject[ImageRepositorySpec, ImageRepositoryStatus]):
    """An image repository whose tags are scanned for ImagePolicies."""

    API: ClassVar[APIVersions] = _V1


class SemVerPolicy(FluxModel):
    """Pick the highest tag within a SemVer range."""

    range: str
    """SemVer range, e.g. ``>=1.0.0 <2.0.0``."""


class AlphabeticalPolicy(FluxModel):
    """Pick the first tag in alphabetical order."""

    order: Literal["asc", "desc"] = "asc"
    """``asc`` selects the last letter (Z), ``desc`` the first (A)."""


class NumericalPolicy(FluxModel):
    """Pick the first tag in numerical order."""

    order: Literal["asc", "desc"] = "asc"
    """``asc`` selects the highest number, ``desc`` the lowest."""


class ImagePolicyChoice(FluxModel):
    """How tags are ordered to pick the latest; set exactly one."""

    semver: SemVerPolicy | None = Field(default=None, alias="semver")
    """SemVer ordering."""
    alphabetical: AlphabeticalPolicy | None = None
    """Alphabetical ordering."""
    numerical: NumericalPolicy | None = None
    """Numerical ordering."""


class TagFilter(FluxModel):
    """Filter (and rewrite) tags before they are ordered."""

    pattern: str | None = None
    """Regular expression tags must match."""
    extract: str | None = None
    """Capture-group template, e.g. ``$ts``, used as the value to order by."""


_INTERVAL_ONLY_IF_ALWAYS = CelRule(
    "!has(self.interval) || (has(self.digestReflectionPolicy) && "
    "self.digestReflectionPolicy == 'Always')",
    "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
)
_INTERVAL_IF_ALWAYS = CelRule(
    "has(self.interval) || !has(self.digestReflectionPolicy) || "
    "self.digestReflectionPolicy != 'Always'",
    "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
)


class ImagePolicySpec(SuspendableSpec):
    """Which repository to read tags from and how to pick the latest."""

    model_config = cel_rules(_INTERVAL_ONLY_IF_ALWAYS, _INTERVAL_IF_ALWAYS)

    image_repository_ref: NamespacedObjectReference
    """ImageRepository whose tags are considered."""
    policy: ImagePolicyChoice
    """Ordering used to pick the latest tag."""
    filter_tags: TagFilter | None = None
    """Tag filter applied before ordering."""
    digest_reflection_policy: Literal["Always", "IfNotPresent", "Never"] = "Never"
    """When ``status.latestRef.digest`` is filled in."""
    interval: Duration | None = None
    """How often the digest is refreshed; only with ``Always``."""

    @model_validator(mode="after")
    def _interval_iff_always(self) -> ImagePolicySpec:
        always = self.digest_reflection_policy == "Always"
        if self.interval is not None and not always:
            raise ValueError(_INTERVAL_ONLY_IF_ALWAYS.message)
        if always and self.interval is None:
            raise ValueError(_INTERVAL_IF_ALWAYS.message)
        return self


class ImageRef(FluxModel):
    """An image reference: name, tag and optional digest."""

    name: str
    """Image name without tag."""
    tag: str
    """Image tag."""
    digest: str | None = None
    """Image digest."""


class ImagePolicyStatus(ReconcileStatus):
    """The image the policy currently selects."""

    latest_ref: ImageRef | None = None
    """Latest image according to the policy."""
    observed_previous_ref: ImageRef | None = None
    """Previously selected image."""
    latest_image: str | None = None
    """``latestRef`` as ``name:tag``, the field v1beta2 readers know.

    Every served version shares one schema (the CRD converts with strategy None), so the v1beta2
    field is written beside the v1 one rather than converted on the way out.
    """
    observed_previous_image: str | None = None
    """``observedPreviousRef`` as ``name:tag`` (v1beta2)."""


class ImagePolicy(FluxObject[ImagePolicySpec, ImagePolicyStatus]):
    """A rule that picks the latest image tag from an ImageRepository."""

    API: ClassVar[APIVersions] = _V1


class AutomationSourceReference(FluxModel):
    """The GitRepository an automation commits to."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["GitRepository"] = "GitRepository"
    """Kind of the referent."""
    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; the automation's namespace by default."""


class GitCheckoutSpec(FluxModel):
    """Which reference to clone before making changes."""

    ref: GitRepositoryRef
    """Branch, tag or commit to clone."""


class CommitUser(FluxModel):
    """Identity commits are authored with."""

    name: str | None = None
    """Author name."""
    email: str
    """Author email."""


class SigningKey(FluxModel):
    """Key used to sign commits."""

    secret_ref: LocalObjectReference
    """Secret with ``git.asc`` (gpg) or ``identity`` (ssh)."""
    type: Literal["gpg", "ssh"] | None = None
    """Key format; ``gpg`` by default."""


class CommitSpec(FluxModel):
    """How commits are made."""

    author: CommitUser
    """Commit author."""
    signing_key: SigningKey | None = None
    """Signing key."""
    message_template: str | None = None
    """Go template of the commit message."""
    message_template_values: dict[str, str] | None = None
    """Extra values available to the message template."""


class PushSpec(FluxModel):
    """Where commits are pushed."""

    branch: str | None = None
    """Branch to push to, created from the checkout branch if missing."""
    refspec: Annotated[str, StringConstraints(pattern=r"^$|^[^+:]")] | None = None
    """Refspec to push with (no deletes or force updates)."""
    options: dict[str, str] | None = None
    """Git push options."""


class GitSpec(FluxModel):
    """Git settings of an automation."""

    checkout: GitCheckoutSpec | None = None
    """Reference to clone; the GitRepository's ref by default."""
    commit: CommitSpec
    """How to commit."""
    push: PushSpec | None = None
    """Where to push; the checkout branch by default."""


class UpdateStrategy(FluxModel):
    """How files are updated."""

    strategy: Literal["Setters"] = "Setters"
    """Update strategy (kyaml setters markers)."""
    path: str | None = None
    """Directory holding the manifests to update; the repository root by default."""


class ImageUpdateAutomationSpec(FluxModel):
    """Which repository to update, how to commit, and which policies apply."""

    source_ref: AutomationSourceReference
    """GitRepository to update."""
    git: GitSpec | None = None
    """Checkout, commit and push settings."""
    interval: Duration
    """How often the automation runs."""
    policy_selector: LabelSelector | None = None
    """ImagePolicies to apply; all in the namespace by default."""
    update: UpdateStrategy | None = Field(
        default_factory=UpdateStrategy, json_schema_extra={"default": {"strategy": "Setters"}}
    )
    """Update strategy."""
    suspend: bool | None = None
    """Stop running while true."""


class ImageUpdateAutomationStatus(ReconcileStatus):
    """What the automation last did."""

    last_automation_run_time: Time | None = None
    """When the automation last ran to completion."""
    last_push_commit: str | None = None
    """SHA of the last pushed commit."""
    last_push_time: Time | None = None
    """When the last commit was pushed."""
    observed_policies: dict[str, ImageRef] | None = None
    """Latest images of the policies considered, by policy name."""
    observed_source_revision: str | None = None
    """Source revision last observed."""


class ImageUpdateAutomation(FluxObject[ImageUpdateAutomationSpec, ImageUpdateAutomationStatus]):
    """Commits image updates selected by ImagePolicies back to a Git repository."""

    API: ClassVar[APIVersions] = _V1

"""Registry of every Flux kind Tide serves: names, versions, printer columns and model.

Controllers, the CLI and the CRD generator all look kinds up here, so a kind's REST names and
versions are declared once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tide.api.generator import ArtifactGenerator, ExternalArtifact
from tide.api.helm import HelmRelease
from tide.api.image import ImagePolicy, ImageRepository, ImageUpdateAutomation
from tide.api.kustomize import Kustomization
from tide.api.meta import FluxObject
from tide.api.notification import Alert, Provider, Receiver
from tide.api.source import Bucket, GitRepository, HelmChart, HelmRepository, OCIRepository

__all__ = [
    "COMPONENTS",
    "HELM_CONTROLLER",
    "IMAGE_AUTOMATION_CONTROLLER",
    "IMAGE_REFLECTOR_CONTROLLER",
    "KINDS",
    "KUSTOMIZE_CONTROLLER",
    "NOTIFICATION_CONTROLLER",
    "SOURCE_CONTROLLER",
    "SOURCE_WATCHER",
    "KindInfo",
    "UnknownKindError",
    "find_kind",
]

PrinterColumn = dict[str, Any]

# Flux's controller names: events' ``reportingController``, field managers, and the
# ``app.kubernetes.io/component`` label on each CRD (which ``flux check`` reads) all use them.
SOURCE_CONTROLLER = "source-controller"
"""Serves the source kinds (GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket)."""
KUSTOMIZE_CONTROLLER = "kustomize-controller"
"""Serves Kustomization."""
HELM_CONTROLLER = "helm-controller"
"""Serves HelmRelease."""
NOTIFICATION_CONTROLLER = "notification-controller"
"""Serves Alert, Provider and Receiver."""
IMAGE_REFLECTOR_CONTROLLER = "image-reflector-controller"
"""Serves ImageRepository and ImagePolicy."""
IMAGE_AUTOMATION_CONTROLLER = "image-automation-controller"
"""Serves ImageUpdateAutomation."""
SOURCE_WATCHER = "source-watcher"
"""Serves ArtifactGenerator (Flux's source-watcher, ``source.extensions.fluxcd.io``)."""
COMPONENTS = (
    SOURCE_CONTROLLER,
    SOURCE_WATCHER,
    KUSTOMIZE_CONTROLLER,
    HELM_CONTROLLER,
    NOTIFICATION_CONTROLLER,
    IMAGE_REFLECTOR_CONTROLLER,
    IMAGE_AUTOMATION_CONTROLLER,
)
"""Every Flux controller name, in the order Flux lists its components."""


def _column(name: str, json_path: str, type_: str = "string", priority: int = 0) -> PrinterColumn:
    column: PrinterColumn = {"name": name, "type": type_, "jsonPath": json_path}
    if priority:
        column["priority"] = priority
    return column


_AGE = _column("Age", ".metadata.creationTimestamp", "date")
_READY = _column("Ready", '.status.conditions[?(@.type=="Ready")].status')
_STATUS = _column("Status", '.status.conditions[?(@.type=="Ready")].message')
_URL = _column("URL", ".spec.url")


@dataclass(frozen=True)
class KindInfo:
    """Everything needed to address a kind on the API server and to generate its CRD."""

    group: str
    """API group, e.g. ``source.toolkit.fluxcd.io``."""
    version: str
    """Storage version."""
    kind: str
    """Kind name."""
    plural: str
    """REST resource name."""
    singular: str
    """Singular resource name."""
    short_names: tuple[str, ...]
    """kubectl short names."""
    list_kind: str
    """Kind of the list type."""
    categories: tuple[str, ...]
    """kubectl categories (``kubectl get fluxcd``)."""
    model: type[FluxObject[Any, Any]] = field(compare=False)
    """Pydantic model of the kind."""
    served_versions: tuple[str, ...]
    """Older versions still served with the storage schema (deprecated)."""
    printer_columns: tuple[PrinterColumn, ...] = field(compare=False)
    """``additionalPrinterColumns`` exactly as Flux declares them."""
    component: str
    """The Flux controller that serves the kind (one of :data:`COMPONENTS`)."""
    has_status: bool = True
    """Whether the kind has a status subresource (v1beta3 Alert and Provider do not)."""

    @property
    def api_version(self) -> str:
        """Return the storage ``group/version``."""
        return f"{self.group}/{self.version}"

    @property
    def crd_name(self) -> str:
        """Return the CRD name, ``<plural>.<group>``."""
        return f"{self.plural}.{self.group}"

    @property
    def api_versions(self) -> tuple[str, ...]:
        """Return every served ``group/version``, storage first."""
        return tuple(f"{self.group}/{v}" for v in (self.version, *self.served_versions))


def _plural(kind: str) -> str:
    """Return the REST resource name of ``kind`` (every Flux kind pluralizes regularly)."""
    name = kind.lower()
    return name[:-1] + "ies" if name.endswith("y") else name + "s"


def _info(
    model: type[FluxObject[Any, Any]],
    short_names: tuple[str, ...],
    categories: tuple[str, ...],
    columns: tuple[PrinterColumn, ...],
    *,
    component: str,
    has_status: bool = True,
) -> KindInfo:
    return KindInfo(
        group=model.GROUP,
        version=model.VERSION,
        kind=model.KIND,
        plural=_plural(model.KIND),
        singular=model.KIND.lower(),
        short_names=short_names,
        list_kind=f"{model.KIND}List",
        categories=categories,
        model=model,
        served_versions=model.SERVED_VERSIONS,
        printer_columns=columns,
        component=component,
        has_status=has_status,
    )


_SOURCES = ("all", "fluxcd", "fluxcd-sources")
_IMAGES = ("all", "fluxcd", "fluxcd-images")
_NOTIFICATIONS = ("all", "fluxcd", "fluxcd-notifications")

_VERDICT = (_AGE, _READY, _STATUS)
_CHART_COLUMNS = (
    _column("Chart", ".spec.chart"),
    _column("Version", ".spec.version"),
    _column("Source Kind", ".spec.sourceRef.kind"),
    _column("Source Name", ".spec.sourceRef.name"),
    *_VERDICT,
)
_ENDPOINT = _column("Endpoint", ".spec.endpoint")
_SOURCE_NAME = _column("Source", ".spec.sourceRef.name")
_SCAN_COLUMNS = (
    _column("Image", ".spec.image"),
    _column("Tags", ".status.lastScanResult.tagCount"),
    _READY,
    _STATUS,
    _column("Last scan", ".status.lastScanResult.scanTime", priority=1),
    _AGE,
)
_POLICY_COLUMNS = (
    _column("Image", ".status.latestRef.name"),
    _column("Tag", ".status.latestRef.tag"),
    _READY,
    _STATUS,
    _AGE,
)
_LAST_RUN = _column("Last run", ".status.lastAutomationRunTime", priority=1)

_SRC = SOURCE_CONTROLLER
_REFLECT = IMAGE_REFLECTOR_CONTROLLER
_NOTIFY = NOTIFICATION_CONTROLLER

# One row a kind: model, short names, categories, printer columns (as Flux declares them).
KINDS: tuple[KindInfo, ...] = (
    _info(GitRepository, ("gitrepo",), _SOURCES, (_URL, *_VERDICT), component=_SRC),
    _info(HelmRepository, ("helmrepo",), _SOURCES, (_URL, *_VERDICT), component=_SRC),
    _info(HelmChart, ("hc",), (), _CHART_COLUMNS, component=_SRC),
    _info(OCIRepository, ("ocirepo",), _SOURCES, (_URL, _READY, _STATUS, _AGE), component=_SRC),
    _info(Bucket, (), _SOURCES, (_ENDPOINT, *_VERDICT), component=_SRC),
    _info(ExternalArtifact, ("ea",), _SOURCES, (*_VERDICT, _SOURCE_NAME), component=_SRC),
    _info(ArtifactGenerator, ("ag",), (), _VERDICT, component=SOURCE_WATCHER),
    _info(Kustomization, ("ks",), (), _VERDICT, component=KUSTOMIZE_CONTROLLER),
    _info(HelmRelease, ("hr",), (), _VERDICT, component=HELM_CONTROLLER),
    _info(ImageRepository, ("imgrepo", "imagerepo"), _IMAGES, _SCAN_COLUMNS, component=_REFLECT),
    _info(ImagePolicy, ("imgpol", "imagepol"), (), _POLICY_COLUMNS, component=_REFLECT),
    _info(
        ImageUpdateAutomation,
        ("iua", "imgupd", "imgauto"),
        _IMAGES,
        (_READY, _STATUS, _LAST_RUN, _AGE),
        component=IMAGE_AUTOMATION_CONTROLLER,
    ),
    _info(Alert, (), (), (_AGE,), component=_NOTIFY, has_status=False),
    _info(Provider, (), (), (_AGE,), component=_NOTIFY, has_status=False),
    _info(Receiver, (), _NOTIFICATIONS, _VERDICT, component=_NOTIFY),
)


class UnknownKindError(KeyError):
    """Raised when an apiVersion/kind pair is not one of the kinds Tide serves."""

    def __init__(self, api_version: str, kind: str) -> None:
        self.api_version = api_version
        self.kind = kind
        super().__init__(api_version, kind)

    def __str__(self) -> str:
        known = sorted({info.kind for info in KINDS})
        return (
            f"unknown kind {self.kind!r} in apiVersion {self.api_version!r}; "
            f"Tide serves {', '.join(known)} in their Flux groups and versions"
        )


_BY_API_VERSION: dict[tuple[str, str], KindInfo] = {
    (api_version, info.kind): info for info in KINDS for api_version in info.api_versions
}


def find_kind(api_version: str, kind: str) -> KindInfo:
    """Return the registered kind for ``apiVersion``/``kind``; older served versions resolve too."""
    try:
        return _BY_API_VERSION[(api_version, kind)]
    except KeyError:
        raise UnknownKindError(api_version, kind) from None

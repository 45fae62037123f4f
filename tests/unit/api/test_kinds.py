"""Every Flux kind is registered with Flux's names, versions and printer columns."""

from __future__ import annotations

import pytest

from tide.api import KINDS, KindInfo, UnknownKindError, find_kind

pytestmark = pytest.mark.unit

# (group, storage version, kind, plural, older served versions)
EXPECTED = [
    ("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories", ("v1beta2",)),
    ("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories", ("v1beta2",)),
    ("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts", ("v1beta2",)),
    ("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories", ("v1beta2",)),
    ("source.toolkit.fluxcd.io", "v1", "Bucket", "buckets", ("v1beta2",)),
    ("source.toolkit.fluxcd.io", "v1", "ExternalArtifact", "externalartifacts", ()),
    ("source.extensions.fluxcd.io", "v1beta1", "ArtifactGenerator", "artifactgenerators", ()),
    ("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations", ("v1beta2",)),
    ("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases", ("v2beta2",)),
    ("image.toolkit.fluxcd.io", "v1", "ImageRepository", "imagerepositories", ("v1beta2",)),
    ("image.toolkit.fluxcd.io", "v1", "ImagePolicy", "imagepolicies", ("v1beta2",)),
    (
        "image.toolkit.fluxcd.io",
        "v1",
        "ImageUpdateAutomation",
        "imageupdateautomations",
        ("v1beta2",),
    ),
    ("notification.toolkit.fluxcd.io", "v1beta3", "Alert", "alerts", ("v1beta2",)),
    ("notification.toolkit.fluxcd.io", "v1beta3", "Provider", "providers", ("v1beta2",)),
    ("notification.toolkit.fluxcd.io", "v1", "Receiver", "receivers", ("v1beta2",)),
]

AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
READY = {
    "name": "Ready",
    "type": "string",
    "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
}
STATUS = {
    "name": "Status",
    "type": "string",
    "jsonPath": '.status.conditions[?(@.type=="Ready")].message',
}


def test_registry_matches_the_flux_table() -> None:
    found = [(i.group, i.version, i.kind, i.plural, i.served_versions) for i in KINDS]
    assert found == EXPECTED


def test_crd_names_are_fluxs() -> None:
    """``kubectl get crd`` and ``flux check`` look CRDs up by these exact names."""
    names = {i.kind: i.crd_name for i in KINDS}
    assert names["GitRepository"] == "gitrepositories.source.toolkit.fluxcd.io"
    assert names["Kustomization"] == "kustomizations.kustomize.toolkit.fluxcd.io"
    assert names["ArtifactGenerator"] == "artifactgenerators.source.extensions.fluxcd.io"
    assert names["Receiver"] == "receivers.notification.toolkit.fluxcd.io"
    assert {i.kind: i.list_kind for i in KINDS}["HelmRelease"] == "HelmReleaseList"


def test_names_are_unique() -> None:
    plurals = [i.crd_name for i in KINDS]
    short = [s for i in KINDS for s in i.short_names]
    assert len(set(plurals)) == len(plurals)
    assert len(set(short)) == len(short)


def test_short_names_and_categories() -> None:
    by_kind = {i.kind: i for i in KINDS}
    assert by_kind["GitRepository"].short_names == ("gitrepo",)
    assert by_kind["Kustomization"].short_names == ("ks",)
    assert by_kind["HelmRelease"].short_names == ("hr",)
    assert by_kind["HelmChart"].short_names == ("hc",)
    assert by_kind["ImageUpdateAutomation"].short_names == ("iua", "imgupd", "imgauto")
    assert by_kind["OCIRepository"].categories == ("all", "fluxcd", "fluxcd-sources")
    assert by_kind["ExternalArtifact"].short_names == ("ea",)
    assert by_kind["ExternalArtifact"].categories == ("all", "fluxcd", "fluxcd-sources")
    assert by_kind["ArtifactGenerator"].short_names == ("ag",)


def test_printer_columns() -> None:
    columns = {i.kind: [dict(c) for c in i.printer_columns] for i in KINDS}
    url = {"name": "URL", "type": "string", "jsonPath": ".spec.url"}
    assert columns["GitRepository"] == [url, AGE, READY, STATUS]
    assert columns["HelmRepository"] == [url, AGE, READY, STATUS]
    assert columns["OCIRepository"] == [url, READY, STATUS, AGE]
    assert columns["Kustomization"] == [AGE, READY, STATUS]
    assert columns["HelmRelease"] == [AGE, READY, STATUS]
    assert columns["Receiver"] == [AGE, READY, STATUS]
    source = {"name": "Source", "type": "string", "jsonPath": ".spec.sourceRef.name"}
    assert columns["ExternalArtifact"] == [AGE, READY, STATUS, source]
    assert columns["ArtifactGenerator"] == [AGE, READY, STATUS]
    assert columns["Alert"] == [AGE]
    assert columns["Provider"] == [AGE]
    assert [c["name"] for c in columns["HelmChart"]] == [
        "Chart",
        "Version",
        "Source Kind",
        "Source Name",
        "Age",
        "Ready",
        "Status",
    ]
    last_scan = next(c for c in columns["ImageRepository"] if c["name"] == "Last scan")
    assert last_scan == {
        "name": "Last scan",
        "type": "string",
        "jsonPath": ".status.lastScanResult.scanTime",
        "priority": 1,
    }


def test_only_alert_and_provider_lack_status() -> None:
    assert {i.kind for i in KINDS if not i.has_status} == {"Alert", "Provider"}


@pytest.mark.parametrize("info", KINDS, ids=lambda i: i.kind)
def test_find_kind_resolves_every_served_version(info: KindInfo) -> None:
    for api_version in info.api_versions:
        assert find_kind(api_version, info.kind) is info


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("source.toolkit.fluxcd.io/v1", "Kustomization"),
        ("source.toolkit.fluxcd.io/v1beta1", "GitRepository"),
        ("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease"),
        ("apps/v1", "Deployment"),
    ],
)
def test_find_kind_refuses_unknown_pairs(api_version: str, kind: str) -> None:
    with pytest.raises(UnknownKindError) as caught:
        find_kind(api_version, kind)
    assert isinstance(caught.value, KeyError)
    message = str(caught.value)
    assert kind in message and api_version in message
    assert caught.value.api_version == api_version and caught.value.kind == kind

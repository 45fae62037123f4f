"""Tide's CRDs on a real API server: typical manifests create, bad ones are refused by field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import tide
from tide.api.kinds import KINDS
from tide.testing import ControlPlane, ControlPlaneError

pytestmark = pytest.mark.integration

MANIFESTS = Path(__file__).parents[2] / "testdata" / "manifests"
VALID = sorted((MANIFESTS / "valid").glob("*.yaml"))
INVALID = sorted((MANIFESTS / "invalid").glob("*.yaml"))


def expected_field(path: Path) -> str:
    match = re.search(r"^# expect: (\S+)", path.read_text(), re.MULTILINE)
    assert match, f"{path.name} lacks a '# expect: <field>' line"
    return match.group(1)


def test_every_kind_has_an_established_crd(control_plane: ControlPlane, crds: list[str]) -> None:
    assert len(crds) == len(KINDS)
    listed = json.loads(control_plane.kubectl("get", "crd", "-o", "json"))["items"]
    established = {
        crd["metadata"]["name"]
        for crd in listed
        if any(
            c["type"] == "Established" and c["status"] == "True"
            for c in crd["status"]["conditions"]
        )
    }
    assert {f"{info.plural}.{info.group}" for info in KINDS} <= established


@pytest.mark.parametrize("manifest", VALID, ids=lambda p: p.stem)
def test_typical_manifest_is_accepted(
    control_plane: ControlPlane, crds: list[str], namespace: str, manifest: Path
) -> None:
    out = control_plane.kubectl(
        "apply",
        "--namespace",
        namespace,
        "-f",
        "-",
        input=manifest.read_text().replace("namespace: default", ""),
    )
    assert "created" in out


@pytest.mark.parametrize("manifest", INVALID, ids=lambda p: p.stem)
def test_invalid_manifest_is_refused_naming_the_field(
    control_plane: ControlPlane, crds: list[str], namespace: str, manifest: Path
) -> None:
    text = manifest.read_text().replace("namespace: default", "")
    with pytest.raises(ControlPlaneError) as refused:
        control_plane.kubectl("apply", "--namespace", namespace, "-f", "-", input=text)
    assert expected_field(manifest) in str(refused.value)


def test_older_version_is_served_and_stored_as_the_current_one(
    control_plane: ControlPlane, crds: list[str], namespace: str
) -> None:
    manifest = (MANIFESTS / "valid" / "gitrepository-v1beta2.yaml").read_text()
    assert "source.toolkit.fluxcd.io/v1beta2" in manifest
    created = control_plane.kubectl(
        "apply", "--namespace", namespace, "-f", "-", "-o", "json",
        input=manifest.replace("namespace: default", ""),
    )  # fmt: skip
    name = json.loads(created)["metadata"]["name"]
    as_v1 = json.loads(control_plane.kubectl(
        "get", "gitrepositories.v1.source.toolkit.fluxcd.io", name, "-n", namespace, "-o", "json"
    ))  # fmt: skip
    assert as_v1["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert as_v1["spec"]["interval"]


def test_get_shows_the_printer_columns_flux_users_know(
    control_plane: ControlPlane, crds: list[str], namespace: str
) -> None:
    manifest = (MANIFESTS / "valid" / "gitrepository-podinfo.yaml").read_text()
    control_plane.kubectl(
        "apply", "-n", namespace, "-f", "-", input=manifest.replace("namespace: default", "")
    )
    header = control_plane.kubectl("get", "gitrepositories", "-n", namespace).splitlines()[0]
    assert header.split() == ["NAME", "URL", "AGE", "READY", "STATUS"]


def test_flux_check_finds_every_crd_by_its_labels(
    control_plane: ControlPlane, crds: list[str]
) -> None:
    # `flux check` lists CRDs by this selector and reports the GitRepository CRD's version.
    selector = "app.kubernetes.io/part-of=flux"
    listed = json.loads(control_plane.kubectl("get", "crd", "-l", selector, "-o", "json"))
    labels = {crd["metadata"]["name"]: crd["metadata"]["labels"] for crd in listed["items"]}
    assert {info.crd_name for info in KINDS} <= set(labels)
    for info in KINDS:
        assert labels[info.crd_name]["app.kubernetes.io/component"] == info.component
        assert labels[info.crd_name]["app.kubernetes.io/version"] == f"v{tide.__version__}"
    git = labels["gitrepositories.source.toolkit.fluxcd.io"]
    assert git["app.kubernetes.io/component"] == "source-controller"

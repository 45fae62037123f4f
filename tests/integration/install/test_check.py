"""``tide check`` and ``tide version`` on a cluster before and after ``tide install``."""

from __future__ import annotations

import pytest

import tide
from tests.integration.install.conftest import run_tide
from tide.install import MINIMUM_KUBERNETES, InstallOptions, render
from tide.testing import ControlPlane
from tide.testing.binaries import KUBERNETES_VERSION

pytestmark = pytest.mark.integration

CRDS = [d["metadata"]["name"] for d in render(InstallOptions()) if d["kind"].endswith("Definition")]
DEPLOYMENTS = [d["metadata"]["name"] for d in render(InstallOptions()) if d["kind"] == "Deployment"]


def test_check_pre_passes_on_the_local_cluster_naming_its_version(plane: ControlPlane) -> None:
    result = run_tide(plane, "check", "--pre")
    wanted = ">={}.{}.0-0".format(*MINIMUM_KUBERNETES)
    assert f"✔ Kubernetes {KUBERNETES_VERSION.lstrip('v')} {wanted}" in result.stderr
    assert "✔ prerequisites checks passed" in result.stderr
    assert "✔ all checks passed" in result.stderr


def test_check_before_install_fails_listing_each_missing_crd_and_controller(
    plane: ControlPlane,
) -> None:
    result = run_tide(plane, "check", check=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    for name in CRDS:
        assert f"✗ {name}: CRD not found" in lines
    for name in DEPLOYMENTS:
        assert f"✗ {name}: deployment not found" in lines
    assert lines[-1] == "✗ check failed"
    assert "✔ prerequisites checks passed" in lines


def test_version_before_install_says_not_installed(plane: ControlPlane) -> None:
    result = run_tide(plane, "version")
    assert result.stdout.splitlines() == [
        f"tide: v{tide.__version__}",
        "controllers: not installed in namespace flux-system",
    ]


def test_check_and_version_after_install_show_each_controller_ready(plane: ControlPlane) -> None:
    run_tide(plane, "install")
    result = run_tide(plane, "check")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for name in CRDS:
        assert any(line.startswith(f"✔ {name} (") for line in lines), name
    for name in DEPLOYMENTS:
        assert f"✔ {name}: deployment ready" in lines
    assert "✔ all checks passed" in lines
    versions = run_tide(plane, "version").stdout.splitlines()
    assert DEPLOYMENTS, "the default install has controllers"
    assert sorted(versions[1:]) == sorted(f"{name}: v{tide.__version__}" for name in DEPLOYMENTS)


def test_version_without_a_cluster_still_prints_the_client(plane: ControlPlane) -> None:
    result = run_tide(plane, "version", "--client")
    assert result.stdout == f"tide: v{tide.__version__}\n"

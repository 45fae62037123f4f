"""The build's own logic (paths, generated and overlay kustomizations), without kustomize."""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.kustomize.build import (
    BuildError,
    BuildOptions,
    build,
    generate_kustomization,
    overlay_kustomization,
    resolve_inside,
)

pytestmark = pytest.mark.unit

TESTDATA = Path(__file__).parent / "testdata"


def test_generated_kustomization_lists_yaml_files_and_kustomized_folders() -> None:
    document = generate_kustomization(TESTDATA / "plain")
    assert document["resources"] == ["bundled", "deployment.yaml", "nested/configmap.yml"]


@pytest.mark.parametrize("path", ["..", "../outside", "a/../../x", "/../../etc"])
def test_paths_that_leave_the_artifact_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(BuildError, match="outside the source artifact"):
        resolve_inside(tmp_path, path, what="spec.path")


def test_symlink_out_of_the_artifact_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(BuildError, match="outside"):
        build(root, BuildOptions(path="link"))


def test_paths_inside_the_artifact_resolve_even_when_absolute_looking(tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()
    assert resolve_inside(tmp_path, "/apps", what="spec.path") == tmp_path.resolve() / "apps"
    assert (
        resolve_inside(tmp_path, "./apps/../apps", what="spec.path") == tmp_path.resolve() / "apps"
    )


def test_missing_path_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="'nowhere' is not a folder"):
        build(tmp_path, BuildOptions(path="nowhere"))


def test_no_transforms_means_no_overlay() -> None:
    assert overlay_kustomization("../app", BuildOptions()) is None


def test_overlay_carries_every_transform_in_kustomize_terms() -> None:
    options = BuildOptions(
        target_namespace="ns",
        name_prefix="p-",
        name_suffix="-s",
        patches=[{"patch": "x", "target": {"kind": "Service"}}],
        images=[{"name": "a", "newTag": "2"}],
        components=["../c"],
    )
    assert overlay_kustomization("../app", options) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../app"],
        "namespace": "ns",
        "namePrefix": "p-",
        "nameSuffix": "-s",
        "patches": [{"patch": "x", "target": {"kind": "Service"}}],
        "images": [{"name": "a", "newTag": "2"}],
        "components": ["../c"],
    }

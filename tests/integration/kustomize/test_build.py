"""Manifests build as they would under Flux: real kustomize on fixture trees, no cluster."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tide.kustomize.build import BuildError, BuildOptions, build

pytestmark = pytest.mark.integration

TESTDATA = Path(__file__).parents[2] / "unit" / "kustomize" / "testdata"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    """A private copy of the fixtures, since a build writes into its artifact like Flux's."""
    root = tmp_path / "artifact"
    shutil.copytree(TESTDATA, root)
    return root


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in objects}


def test_plain_folder_builds_with_a_generated_kustomization_and_leaves_no_trace(
    artifact: Path,
) -> None:
    objects = build(artifact, BuildOptions(path="plain"))
    names = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    assert names == ["ConfigMap/settings", "Deployment/web", "Service/web"]
    assert not (artifact / "plain" / "kustomization.yaml").exists()
    assert not list(artifact.glob(".tide-build-*"))


def test_production_overlay_patches_the_base_to_three_replicas(artifact: Path) -> None:
    objects = build(artifact, BuildOptions(path="./apps/production"))
    deployment = by_kind(objects)["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["namespace"] == "podinfo"


def test_target_namespace_and_name_affixes_apply_to_every_object(artifact: Path) -> None:
    options = BuildOptions(
        path="plain", target_namespace="team-a", name_prefix="pre-", name_suffix="-suf"
    )
    objects = build(artifact, options)
    assert {o["metadata"]["namespace"] for o in objects} == {"team-a"}
    assert all(o["metadata"]["name"].startswith("pre-") for o in objects)
    assert all(o["metadata"]["name"].endswith("-suf") for o in objects)


def test_common_metadata_reaches_metadata_but_not_selectors(artifact: Path) -> None:
    options = BuildOptions(path="plain", common_labels={"team": "a"}, common_annotations={"x": "1"})
    deployment = by_kind(build(artifact, options))["Deployment"]
    assert deployment["metadata"]["labels"] == {"app": "web", "team": "a"}
    assert deployment["metadata"]["annotations"] == {"x": "1"}
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "web"}


def test_strategic_merge_patch_with_a_target_selector_changes_only_matches(
    artifact: Path,
) -> None:
    patch = "apiVersion: v1\nkind: Service\nmetadata:\n  name: any\n  labels:\n    patched: 'yes'\n"
    options = BuildOptions(path="plain", patches=[{"patch": patch, "target": {"kind": "Service"}}])
    objects = by_kind(build(artifact, options))
    assert objects["Service"]["metadata"]["labels"] == {"patched": "yes"}
    assert "patched" not in objects["Deployment"]["metadata"]["labels"]


def test_json6902_patch_with_a_label_selector_target(artifact: Path) -> None:
    patch = "- op: replace\n  path: /spec/replicas\n  value: 5\n"
    target = {"kind": "Deployment", "labelSelector": "app=web"}
    objects = build(
        artifact, BuildOptions(path="plain", patches=[{"patch": patch, "target": target}])
    )
    assert by_kind(objects)["Deployment"]["spec"]["replicas"] == 5


def test_images_override_name_and_tag(artifact: Path) -> None:
    image = {
        "name": "ghcr.io/stefanprodan/podinfo",
        "newName": "example.org/podinfo",
        "newTag": "6.5.0",
    }
    deployment = by_kind(build(artifact, BuildOptions(path="plain", images=[image])))["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "example.org/podinfo:6.5.0"


def test_components_are_resolved_relative_to_the_path(artifact: Path) -> None:
    options = BuildOptions(path="with-component/app", components=["../components/debug"])
    configmap = by_kind(build(artifact, options))["ConfigMap"]
    assert configmap["data"] == {"colour": "blue", "debug": "true"}


def test_missing_component_fails_unless_ignored(artifact: Path) -> None:
    options = BuildOptions(path="with-component/app", components=["../components/absent"])
    with pytest.raises(BuildError, match="absent"):
        build(artifact, options)
    ignored = BuildOptions(
        path="with-component/app",
        components=["../components/absent"],
        ignore_missing_components=True,
    )
    assert by_kind(build(artifact, ignored))["ConfigMap"]["data"] == {"colour": "blue"}


def test_invalid_yaml_is_reported_with_the_file_name(artifact: Path) -> None:
    (artifact / "plain" / "broken.yaml").write_text("kind: [unclosed\n")
    with pytest.raises(BuildError, match=r"plain/broken\.yaml") as caught:
        build(artifact, BuildOptions(path="plain"))
    assert caught.value.reason == "BuildFailed"
    assert caught.value.path == "plain/broken.yaml"


def test_kustomization_that_does_not_build_carries_kustomizes_message(artifact: Path) -> None:
    (artifact / "apps" / "production" / "kustomization.yaml").write_text(
        "resources:\n  - missing.yaml\n"
    )
    with pytest.raises(
        BuildError, match=r"^kustomize build failed: accumulating resources.*missing\.yaml"
    ) as caught:
        build(artifact, BuildOptions(path="apps/production"))
    assert str(artifact) not in str(caught.value)


def test_a_kustomization_reading_files_outside_the_artifact_is_refused(artifact: Path) -> None:
    (artifact / "apps" / "production" / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: leak\n    files:\n      - token=../../../../etc/passwd\n"
    )
    with pytest.raises(BuildError, match="outside the source artifact"):
        build(artifact, BuildOptions(path="apps/production"))


# -- the repository root is the app (``path: ./`` or no path) ----------------------------------
ROOT_APP = {
    "deployment.yaml": (TESTDATA / "plain" / "deployment.yaml").read_text(),
    "config/settings.yaml": (TESTDATA / "with-component" / "app" / "configmap.yaml").read_text(),
}
KUSTOMIZED_ROOT = {
    **ROOT_APP,
    "kustomization.yaml": "resources:\n  - deployment.yaml\n  - config/settings.yaml\n",
    "components/debug/kustomization.yaml": (
        TESTDATA / "with-component" / "components" / "debug" / "kustomization.yaml"
    ).read_text(),
}
IMAGE = {"name": "ghcr.io/stefanprodan/podinfo", "newName": "example.org/web", "newTag": "7"}
REPLICAS = {
    "patch": "- op: replace\n  path: /spec/replicas\n  value: 4\n",
    "target": {"kind": "Deployment"},
}
TRANSFORMS: dict[str, dict[str, Any]] = {
    "targetNamespace": {"target_namespace": "team-a"},
    "namePrefix": {"name_prefix": "pre-"},
    "nameSuffix": {"name_suffix": "-suf"},
    "patches": {"patches": [REPLICAS]},
    "images": {"images": [IMAGE]},
    "components": {"components": ["components/debug"]},
}


def lay_out(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def transformed(field: str, objects: list[dict[str, Any]]) -> bool:
    """Tell whether ``field``'s transform shows in the built objects."""
    deployment, configmap = by_kind(objects)["Deployment"], by_kind(objects)["ConfigMap"]
    names = {o["metadata"]["name"] for o in objects}
    return {
        "targetNamespace": {o["metadata"].get("namespace") for o in objects} == {"team-a"},
        "namePrefix": names == {"pre-web", "pre-settings"},
        "nameSuffix": names == {"web-suf", "settings-suf"},
        "patches": deployment["spec"]["replicas"] == 4,
        "images": deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        == "example.org/web:7",
        "components": configmap["data"] == {"colour": "blue", "debug": "true"},
    }[field]


@pytest.mark.parametrize("path", ["./", "", "."])
@pytest.mark.parametrize("field", list(TRANSFORMS))
def test_every_transform_builds_the_root_when_it_has_a_kustomization(
    tmp_path: Path, field: str, path: str
) -> None:
    root = lay_out(tmp_path / "artifact", KUSTOMIZED_ROOT)
    objects = build(root, BuildOptions(path=path, **TRANSFORMS[field]))
    assert transformed(field, objects)
    assert sorted(p.name for p in root.iterdir()) == [
        "components",
        "config",
        "deployment.yaml",
        "kustomization.yaml",
    ]


@pytest.mark.parametrize("path", ["./", ""])
@pytest.mark.parametrize("field", [name for name in TRANSFORMS if name != "components"])
def test_every_transform_builds_a_root_of_plain_manifests(
    tmp_path: Path, field: str, path: str
) -> None:
    # Components are left out: a component folder in a plain root is listed as a resource by
    # the generated kustomization, in Flux as in Tide, so it cannot be a component there.
    root = lay_out(tmp_path / "artifact", ROOT_APP)
    objects = build(root, BuildOptions(path=path, **TRANSFORMS[field]))
    assert transformed(field, objects)
    assert sorted(p.name for p in root.iterdir()) == ["config", "deployment.yaml"]


def test_all_transforms_together_build_the_root(tmp_path: Path) -> None:
    root = lay_out(tmp_path / "artifact", KUSTOMIZED_ROOT)
    options: dict[str, Any] = {}
    for field in ("targetNamespace", "namePrefix", "patches", "images", "components"):
        options.update(TRANSFORMS[field])
    objects = build(root, BuildOptions(path="./", **options))
    deployment = by_kind(objects)["Deployment"]
    assert deployment["metadata"] == {
        "name": "pre-web",
        "namespace": "team-a",
        "labels": {"app": "web"},
    }
    assert deployment["spec"]["replicas"] == 4


def test_a_failing_root_build_names_artifact_paths_only(tmp_path: Path) -> None:
    root = lay_out(tmp_path / "tide-kustomization-x1y2", {
        **KUSTOMIZED_ROOT,
        "kustomization.yaml": "resources:\n  - deployment.yaml\n  - config/missing.yaml\n",
    })  # fmt: skip
    options = BuildOptions(path="./", target_namespace="team-a", components=["components/absent"])
    with pytest.raises(BuildError) as caught:
        build(root, options)
    message = str(caught.value)
    assert "accumulating resources from 'config/missing.yaml'" in message, message
    for leak in (str(tmp_path), "tide-kustomization-", "tide-overlay-", ".tide-build-", "/tmp/"):
        assert leak not in message, message

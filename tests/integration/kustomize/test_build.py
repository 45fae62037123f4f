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

"""What a build reaches: only the folders and files it names, each checked to stay inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.kustomize.paths import BuildError
from tide.kustomize.reach import Reference, reach

pytestmark = pytest.mark.unit


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root.resolve()


MONOREPO = {
    "apps/web/kustomization.yaml": (
        "resources: [deploy.yaml, ../../base/web]\n"
        "patches:\n  - path: patch.yaml\n"
        "configMapGenerator:\n  - name: c\n    files: [key=conf.txt]\n    envs: [vars.env]\n"
    ),
    "apps/web/deploy.yaml": "kind: Deployment\n",
    "apps/web/patch.yaml": "kind: Deployment\n",
    "apps/web/conf.txt": "x\n",
    "apps/web/vars.env": "A=1\n",
    "base/web/kustomization.yaml": "resources: [svc.yaml]\ncomponents: [../../components/debug]\n",
    "base/web/svc.yaml": "kind: Service\n",
    "components/debug/kustomization.yaml": "kind: Component\n",
    "teams/other/kustomization.yaml": "resources: [unclosed\n",
    "teams/leaky/kustomization.yaml": "resources: [../../../../etc]\n",
}


def test_only_the_kustomizations_and_files_the_build_names_are_reached(tmp_path: Path) -> None:
    root = tree(tmp_path, MONOREPO)
    reached = reach(root, root / "apps/web")
    assert reached.kustomizations == [
        "apps/web/kustomization.yaml",
        "base/web/kustomization.yaml",
        "components/debug/kustomization.yaml",
    ]
    assert sorted(reached.files) == [
        "apps/web/conf.txt",
        "apps/web/deploy.yaml",
        "apps/web/patch.yaml",
        "apps/web/vars.env",
        "base/web/svc.yaml",
    ]
    assert reached.remote == []


def test_a_broken_kustomization_that_is_reached_is_named(tmp_path: Path) -> None:
    root = tree(
        tmp_path, {**MONOREPO, "apps/web/kustomization.yaml": "resources: [../../teams/other]\n"}
    )
    with pytest.raises(BuildError, match=r"^invalid kustomization teams/other/kustomization\.yaml"):
        reach(root, root / "apps/web")


@pytest.mark.parametrize(
    ("kustomization", "shown"),
    [
        ("resources: [../../../etc]\n", "../../../etc"),
        ("resources: [/etc/passwd]\n", "/etc/passwd"),
        ("bases: [file:///etc]\n", "file:///etc"),
        ("patches:\n  - path: ../../../secret.yaml\n", "../../../secret.yaml"),
        ("crds: [../../../crd.yaml]\n", "../../../crd.yaml"),
        (
            "secretGenerator:\n  - name: s\n    files: [t=../../../../etc/shadow]\n",
            "../../../../etc",
        ),
        ("configMapGenerator:\n  - name: s\n    env: ../../../x.env\n", "../../../x.env"),
        (
            "generators:\n  - |\n    kind: ConfigMapGenerator\n    files: [/etc/hosts]\n",
            "/etc/hosts",
        ),
        ("resources: [https://../../../../../etc]\n", "https://../../../../../etc"),
    ],
)
def test_a_reached_path_out_of_the_artifact_is_refused_naming_the_file(
    tmp_path: Path, kustomization: str, shown: str
) -> None:
    root = tree(tmp_path / "repo", {"apps/web/kustomization.yaml": kustomization})
    with pytest.raises(BuildError, match="outside the source artifact") as caught:
        reach(root, root / "apps/web")
    assert str(caught.value).startswith("apps/web/kustomization.yaml: path")
    assert shown in str(caught.value)


def test_an_escape_in_a_nested_base_names_the_base(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {
        "apps/web/kustomization.yaml": "resources: [../../base]\n",
        "base/kustomization.yaml": "resources: [../../outside.yaml]\n",
    })  # fmt: skip
    with pytest.raises(BuildError, match=r"^base/kustomization\.yaml: path '\.\./\.\./outside"):
        reach(root, root / "apps/web")


def test_a_symlink_out_of_the_artifact_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("kind: Secret\n")
    root = tree(tmp_path / "repo", {"app/kustomization.yaml": "resources: [link.yaml]\n"})
    (root / "app" / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(BuildError, match=r"app/kustomization\.yaml: path 'link\.yaml'"):
        reach(root, root / "app")


def test_a_plugin_config_file_is_followed_but_field_specs_are_not_paths(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {
        "app/kustomization.yaml": "transformers: [labels.yaml]\ngenerators: [gen.yaml]\n",
        "app/labels.yaml": (
            "kind: LabelTransformer\nlabels: {a: b}\nfieldSpecs:\n  - path: /metadata/labels\n"
        ),
        "app/gen.yaml": "kind: ConfigMapGenerator\nfiles: [../../../etc/passwd]\n",
    })  # fmt: skip
    with pytest.raises(BuildError, match=r"^app/gen\.yaml: path '\.\./\.\./\.\./etc"):
        reach(root, root / "app")
    (root / "app" / "gen.yaml").write_text("kind: ConfigMapGenerator\nfiles: [conf.txt]\n")
    assert sorted(reach(root, root / "app").files) == ["app/gen.yaml", "app/labels.yaml"]


@pytest.mark.parametrize(
    ("field", "entry"),
    [
        ("resources", "https://127.0.0.1:8080/deploy.yaml"),
        ("resources", "http://example.org/deploy.yaml"),
        ("resources", "git::http://127.0.0.1:9999/repo.git//base?ref=main"),
        ("resources", "github.com/org/repo/base?ref=v1"),
        ("bases", "ssh://git@example.org/org/repo.git"),
        ("components", "git@github.com:org/repo.git//component"),
        ("resources", "gh:org/repo"),
    ],
)
def test_remote_references_are_collected_with_their_file(
    tmp_path: Path, field: str, entry: str
) -> None:
    root = tree(tmp_path / "repo", {"app/kustomization.yaml": f"{field}:\n  - {entry}\n"})
    assert reach(root, root / "app").remote == [Reference("app/kustomization.yaml", field, entry)]


def test_a_remote_patch_path_is_collected(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {
        "app/kustomization.yaml": "patches:\n  - path: https://example.org/patch.yaml\n",
    })  # fmt: skip
    assert [ref.field for ref in reach(root, root / "app").remote] == ["patches[].path"]


def test_remote_references_in_a_base_and_in_spec_components_are_collected(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {
        "app/kustomization.yaml": "resources: [../base]\n",
        "base/kustomization.yaml": "resources: [https://example.org/a.yaml]\n",
        "extra/kustomization.yaml": "kind: Component\nresources: [https://example.org/b.yaml]\n",
    })  # fmt: skip
    reached = reach(root, root / "app", components=[root / "extra"])
    assert [(ref.file, ref.value) for ref in reached.remote] == [
        ("base/kustomization.yaml", "https://example.org/a.yaml"),
        ("extra/kustomization.yaml", "https://example.org/b.yaml"),
    ]


def test_folders_that_name_each_other_are_walked_once(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {
        "a/kustomization.yaml": "resources: [../b]\n",
        "b/kustomization.yaml": "resources: [../a]\n",
    })  # fmt: skip
    assert reach(root, root / "a").kustomizations == [
        "a/kustomization.yaml",
        "b/kustomization.yaml",
    ]


def test_a_local_folder_with_a_remote_looking_name_is_followed_too(tmp_path: Path) -> None:
    # kustomize reads 'gh:org/repo' as a local folder when there is one.
    root = tree(tmp_path / "repo", {
        "app/kustomization.yaml": "resources: ['gh:org/repo']\n",
        "app/gh:org/repo/kustomization.yaml": "resources: [../../../../outside.yaml]\n",
    })  # fmt: skip
    with pytest.raises(BuildError, match=r"^app/gh:org/repo/kustomization\.yaml: path"):
        reach(root, root / "app")


def test_a_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {"app/kustomization.yaml": "resources: [loop]\n"})
    (root / "app" / "loop").symlink_to(root / "app" / "loop")
    with pytest.raises(BuildError) as caught:
        reach(root, root / "app")
    assert str(caught.value) == (
        "app/kustomization.yaml: path 'loop' cannot be resolved (a symlink loop?)"
    )

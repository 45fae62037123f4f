"""The build's own logic (paths, generated and overlay kustomizations), without kustomize."""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.kustomize.build import (
    BuildError,
    BuildOptions,
    build,
    generate_kustomization,
    kustomize_message,
    overlay_kustomization,
    resolve_inside,
)
from tide.kustomize.paths import is_remote, redact

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


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/a.yaml",
        "http://127.0.0.1:8080/a.yaml",
        "git::http://127.0.0.1:9/repo",
        "ssh://git@example.org/repo.git",
        "git@github.com:org/repo.git",
        "github.com/org/repo//base",
        "gh:org/repo",
        "file:///etc",
        "HTTPS://example.org/a.yaml",
        "github.com:org/repo",
    ],
)
def test_references_kustomize_fetches_are_remote(value: str) -> None:
    assert is_remote(value)


@pytest.mark.parametrize("value", ["base", "../base", "deploy.yaml", "example.org/org/repo"])
def test_local_paths_are_not_remote(value: str) -> None:
    # kustomize reads a scheme-less host as a local path too (only github.com is special).
    assert not is_remote(value)


def test_a_password_in_a_url_is_redacted() -> None:
    assert redact("https://bot:s3cr3t@example.org/x.yaml") == "https://bot:***@example.org/x.yaml"
    assert redact("https://example.org/x.yaml") == "https://example.org/x.yaml"


def test_remote_bases_are_refused_before_kustomize_runs(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n  - https://user:token@example.org/deploy.yaml\n"
    )
    with pytest.raises(BuildError) as caught:
        build(tmp_path, BuildOptions(path="./", no_remote_bases=True))
    assert str(caught.value) == (
        "kustomization.yaml: resources entry 'https://user:***@example.org/deploy.yaml' is "
        "remote: remote bases are not allowed (--no-remote-bases)"
    )
    assert caught.value.path == "kustomization.yaml"


def test_kustomize_messages_name_artifact_paths_and_never_scratch_folders(tmp_path: Path) -> None:
    root = tmp_path / "tide-kustomization-abc123"
    scratch = tmp_path / "tide-overlay-xyz789"
    to_root = "../tide-kustomization-abc123"
    stderr = (
        'E1201 21:17:22.992204   20363 run.go:72] "command failed" err=<\n'
        f"\taccumulating resources: accumulation err='accumulating resources from '{to_root}': "
        f"read {root}: is a directory': recursed accumulation of path '{root}': "
        f"lstat {root}/apps/missing.yaml: no such file or directory; "
        f"in {scratch}/kustomization.yaml; clone in /tmp/kustomize-12345/repo failed\n"
        "\t: exit status 128\n >\n"
    )
    message = kustomize_message(stderr, root=root, scratch=scratch)
    assert message == (
        "accumulating resources: accumulation err='accumulating resources from '.': "
        "read .: is a directory': recursed accumulation of path '.': "
        "lstat apps/missing.yaml: no such file or directory; "
        "in <spec overlay>/kustomization.yaml; clone in <temporary>/repo failed\n: exit status 128"
    )


def test_single_line_kustomize_messages_lose_klogs_prefix(tmp_path: Path) -> None:
    stderr = (
        'E1201 21:16:33.743616   17589 run.go:72] "command failed" '
        f'err="accumulating resources: open {tmp_path}/a/x.yaml: \\"quoted\\""\n'
    )
    assert kustomize_message(stderr, root=tmp_path) == (
        'accumulating resources: open a/x.yaml: "quoted"'
    )


def test_a_users_folder_named_like_a_scratch_folder_is_kept(tmp_path: Path) -> None:
    stderr = (
        "error: accumulating resources from 'apps/kustomize-2/x.yaml': lstat /tmp/kustomize-99/x"
    )
    assert kustomize_message(stderr, root=tmp_path) == (
        "accumulating resources from 'apps/kustomize-2/x.yaml': lstat <temporary>/x"
    )


def test_an_overlay_far_from_the_artifact_is_still_named_by_artifact_paths(tmp_path: Path) -> None:
    root = tmp_path / "work" / "artifact"
    scratch = tmp_path / "scratch" / "tide-overlay-q1"
    stderr = (
        "error: accumulating resources from '../../work/artifact/apps': "
        "lstat ../../work/artifact/apps/x.yaml"
    )
    assert kustomize_message(stderr, root=root, scratch=scratch) == (
        "accumulating resources from 'apps': lstat apps/x.yaml"
    )


def test_a_spec_path_in_a_symlink_loop_is_named_without_the_scratch_path(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(BuildError) as caught:
        build(tmp_path, BuildOptions(path="loop"))
    assert str(caught.value) == "spec.path 'loop' cannot be resolved (a symlink loop?)"


def test_a_plain_folder_with_a_symlink_out_is_refused_before_the_file_is_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "shadow").write_text("root:secret: [unclosed\n")
    root = tmp_path / "artifact"
    (root / "app").mkdir(parents=True)
    (root / "app" / "x.yaml").symlink_to(tmp_path / "shadow")
    with pytest.raises(BuildError) as caught:
        build(root, BuildOptions(path="app"))
    assert str(caught.value) == "file 'app/x.yaml' points outside the source artifact"


def test_a_dangling_symlink_in_a_plain_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "x.yaml").symlink_to(tmp_path / "app" / "gone.yaml")
    with pytest.raises(BuildError) as caught:
        build(tmp_path, BuildOptions(path="app"))
    assert str(caught.value) == "cannot read app/x.yaml: No such file or directory"

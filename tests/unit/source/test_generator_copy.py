"""ArtifactGenerator copy operations: cp-like paths, globs, exclude, strategies, bad input."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from tide.api.generator import ArtifactGeneratorSpec, CopyOperation
from tide.source.generator import CopyError, SpecError, apply_rules, parse_rule, validate
from tide.source.generator._glob import Pattern, static_prefix

pytestmark = pytest.mark.unit

TREE = {
    "config.yaml": "a: 1\n",
    "configs/one.yaml": "one: 1\n",
    "configs/two.yaml": "two: 2\n",
    "configs/README.md": "# docs\n",
    "configs/sub/three.yaml": "three: 3\n",
    "configs/sub/testdata/fixture.yaml": "x: 1\n",
    "apps/podinfo/deploy.yaml": "kind: Deployment\n",
    "apps/podinfo/notes.md": "notes\n",
    "infrastructure/redis/release.yaml": "kind: HelmRelease\n",
    "values/base.yaml": "image:\n  tag: '1'\n  pull: Always\nports: [80, 443]\n",
    "values/prod.yaml": "image:\n  tag: '2'\nports: [8443]\n",
    "values/list.yaml": "- a\n- b\n",
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _run(tmp_path: Path, *operations: dict[str, object]) -> dict[str, str]:
    sources = {"src": _tree(tmp_path / "src", TREE)}
    staging = tmp_path / "staging"
    rules = [parse_rule(CopyOperation.model_validate(op)) for op in operations]
    apply_rules(rules, sources, staging)
    return _files(staging)


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("@artifact/apps/app.yaml", "apps/app.yaml"),
        ("@artifact/apps/", "apps/config.yaml"),
        ("@artifact/", "config.yaml"),
    ],
)
def test_a_file_goes_to_the_named_file_or_into_the_named_folder(
    tmp_path: Path, to: str, expected: str
) -> None:
    assert _run(tmp_path, {"from": "@src/config.yaml", "to": to}) == {expected: "a: 1\n"}


def test_a_file_copied_onto_an_existing_folder_goes_inside_it(tmp_path: Path) -> None:
    files = _run(
        tmp_path,
        {"from": "@src/configs/one.yaml", "to": "@artifact/apps/"},
        {"from": "@src/config.yaml", "to": "@artifact/apps"},
    )
    assert set(files) == {"apps/one.yaml", "apps/config.yaml"}


def test_a_folder_is_copied_as_a_subfolder_like_cp_r(tmp_path: Path) -> None:
    files = _run(tmp_path, {"from": "@src/configs/", "to": "@artifact/apps/"})
    assert set(files) == {
        "apps/configs/one.yaml",
        "apps/configs/two.yaml",
        "apps/configs/README.md",
        "apps/configs/sub/three.yaml",
        "apps/configs/sub/testdata/fixture.yaml",
    }


def test_the_source_root_copies_everything_into_the_destination(tmp_path: Path) -> None:
    assert set(_run(tmp_path, {"from": "@src/", "to": "@artifact/"})) == set(TREE)


def test_a_single_star_glob_keeps_to_one_folder_and_strips_its_fixed_folders(
    tmp_path: Path,
) -> None:
    files = _run(tmp_path, {"from": "@src/configs/*.yaml", "to": "@artifact/apps/"})
    assert files == {"apps/one.yaml": "one: 1\n", "apps/two.yaml": "two: 2\n"}


def test_double_star_copies_the_tree_below_the_fixed_folders(tmp_path: Path) -> None:
    files = _run(tmp_path, {"from": "@src/configs/**", "to": "@artifact/"})
    assert set(files) == {
        "one.yaml",
        "two.yaml",
        "README.md",
        "sub/three.yaml",
        "sub/testdata/fixture.yaml",
    }


def test_double_star_in_the_middle_matches_any_depth(tmp_path: Path) -> None:
    files = _run(tmp_path, {"from": "@src/configs/**/*.yaml", "to": "@artifact/out/"})
    assert set(files) == {
        "out/one.yaml",
        "out/two.yaml",
        "out/sub/three.yaml",
        "out/sub/testdata/fixture.yaml",
    }


def test_a_star_matching_a_folder_copies_the_whole_folder(tmp_path: Path) -> None:
    files = _run(tmp_path, {"from": "@src/apps/*", "to": "@artifact/"})
    assert set(files) == {"podinfo/deploy.yaml", "podinfo/notes.md"}


def test_exclude_drops_names_at_any_depth_and_whole_folders(tmp_path: Path) -> None:
    files = _run(
        tmp_path,
        {"from": "@src/configs/**", "to": "@artifact/", "exclude": ["*.md", "**/testdata/**"]},
    )
    assert set(files) == {"one.yaml", "two.yaml", "sub/three.yaml"}


def test_exclude_matches_paths_from_the_copy_root_and_from_the_source_root(
    tmp_path: Path,
) -> None:
    from_copy_root = _run(
        tmp_path, {"from": "@src/configs/", "to": "@artifact/", "exclude": ["sub/**"]}
    )
    assert set(from_copy_root) == {"configs/one.yaml", "configs/two.yaml", "configs/README.md"}
    from_source_root = _run(
        tmp_path / "b", {"from": "@src/configs/*", "to": "@artifact/", "exclude": ["configs/sub"]}
    )
    assert set(from_source_root) == {"one.yaml", "two.yaml", "README.md"}


def test_later_operations_overwrite_earlier_files(tmp_path: Path) -> None:
    files = _run(
        tmp_path,
        {"from": "@src/values/base.yaml", "to": "@artifact/values.yaml"},
        {"from": "@src/values/prod.yaml", "to": "@artifact/values.yaml"},
    )
    assert files == {"values.yaml": TREE["values/prod.yaml"]}


def test_merge_deep_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    files = _run(
        tmp_path,
        {"from": "@src/values/base.yaml", "to": "@artifact/values.yaml"},
        {"from": "@src/values/prod.yaml", "to": "@artifact/values.yaml", "strategy": "Merge"},
    )
    assert files == {"values.yaml": "image:\n  tag: '2'\n  pull: Always\nports:\n- 8443\n"}


def test_merge_onto_nothing_is_a_plain_copy(tmp_path: Path) -> None:
    files = _run(
        tmp_path, {"from": "@src/values/prod.yaml", "to": "@artifact/v.yaml", "strategy": "Merge"}
    )
    assert files == {"v.yaml": TREE["values/prod.yaml"]}


def test_merge_refuses_a_file_that_is_not_a_yaml_mapping(tmp_path: Path) -> None:
    with pytest.raises(CopyError, match=r"cannot merge.*not a mapping"):
        _run(
            tmp_path,
            {"from": "@src/values/list.yaml", "to": "@artifact/v.yaml"},
            {"from": "@src/values/prod.yaml", "to": "@artifact/v.yaml", "strategy": "Merge"},
        )


def _tarball(path: Path, files: dict[str, str]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue()))


def test_extract_unpacks_archives_and_skips_other_glob_matches(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src", {"charts/notes.txt": "x"})
    _tarball(source / "charts" / "podinfo-6.7.0.tgz", {"podinfo/Chart.yaml": "name: podinfo\n"})
    rule = parse_rule(
        CopyOperation.model_validate(
            {"from": "@src/charts/*", "to": "@artifact/charts/", "strategy": "Extract"}
        )
    )
    apply_rules([rule], {"src": source}, tmp_path / "staging")
    assert _files(tmp_path / "staging") == {"charts/podinfo/Chart.yaml": "name: podinfo\n"}


def test_extract_lands_beside_what_earlier_operations_copied(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src", {"deploy/app.yaml": "kind: ConfigMap\n"})
    _tarball(source / "charts" / "a.tgz", {"a/Chart.yaml": "name: a\n"})
    _tarball(source / "charts" / "b.tgz", {"b/Chart.yaml": "name: b\n"})
    rules = [
        parse_rule(CopyOperation.model_validate(operation))
        for operation in (
            {"from": "@src/deploy/**", "to": "@artifact/"},
            {"from": "@src/charts/*.tgz", "to": "@artifact/", "strategy": "Extract"},
        )
    ]
    apply_rules(rules, {"src": source}, tmp_path / "staging")
    assert _files(tmp_path / "staging") == {
        "app.yaml": "kind: ConfigMap\n",
        "a/Chart.yaml": "name: a\n",
        "b/Chart.yaml": "name: b\n",
    }


def test_extract_of_a_single_file_demands_an_archive(tmp_path: Path) -> None:
    with pytest.raises(CopyError, match=r"takes \.tar\.gz or \.tgz"):
        _run(tmp_path, {"from": "@src/config.yaml", "to": "@artifact/", "strategy": "Extract"})


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ({"from": "@src/missing.yaml", "to": "@artifact/"}, "'missing.yaml' does not exist"),
        ({"from": "@src/nothing/*.yaml", "to": "@artifact/"}, "no files match 'nothing/\\*.yaml'"),
        (
            {"from": "@src/configs/*.md", "to": "@artifact/", "exclude": ["*.md"]},
            "every file matching 'configs/\\*.md' in source 'src' was excluded",
        ),
        ({"from": "@other/config.yaml", "to": "@artifact/"}, "no source with alias 'other'"),
    ],
)
def test_bad_operations_fail_naming_what_is_wrong(
    tmp_path: Path, operation: dict[str, object], message: str
) -> None:
    with pytest.raises(CopyError, match=message):
        _run(tmp_path, operation)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ({"from": "@src/../etc/passwd", "to": "@artifact/"}, "from must stay inside its root"),
        ({"from": "@src/config.yaml", "to": "@artifact/../x"}, "to must stay inside its root"),
        ({"from": "@src/[a.yaml", "to": "@artifact/"}, "invalid glob: unclosed"),
        ({"from": "@src/a", "to": "@artifact/", "exclude": ["[]"]}, "invalid glob"),
    ],
)
def test_rules_escaping_their_root_or_with_bad_globs_are_refused(
    operation: dict[str, object], message: str
) -> None:
    with pytest.raises(CopyError, match=message):
        parse_rule(CopyOperation.model_validate(operation))


def test_the_copy_is_the_same_whatever_the_order_files_were_written(tmp_path: Path) -> None:
    first = _run(tmp_path / "a", {"from": "@src/**", "to": "@artifact/"})
    second = _run(tmp_path / "b", {"from": "@src/**", "to": "@artifact/"})
    assert first == second and set(first) == set(TREE)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "d/a.yaml", False),
        ("**/*.yaml", "a.yaml", True),
        ("**/*.yaml", "d/e/a.yaml", True),
        ("apps/**", "apps/x/y", True),
        ("apps/**", "other/x", False),
        ("a?c", "abc", True),
        ("[!a]bc", "abc", False),
        ("[ab]bc", "bbc", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert Pattern.compile(pattern).matches(path) is matches


def test_static_prefix_is_the_folders_before_the_first_glob() -> None:
    assert static_prefix("apps/base/*.yaml") == "apps/base"
    assert static_prefix("**/x") == ""


def _spec(artifacts: list[dict[str, object]], aliases: tuple[str, ...] = ("repo",)) -> object:
    return ArtifactGeneratorSpec.model_validate({
        "sources": [{"alias": a, "kind": "GitRepository", "name": "mono"} for a in aliases],
        "artifacts": artifacts,
    })  # fmt: skip


def test_validate_returns_the_rules_of_every_artifact() -> None:
    plans = validate(_spec([  # type: ignore[arg-type]
        {"name": "apps", "copy": [{"from": "@repo/apps/**", "to": "@artifact/"}]},
        {"name": "infra", "originRevision": "@repo",
         "copy": [{"from": "@repo/infrastructure/", "to": "@artifact/"}]},
    ]))  # fmt: skip
    assert [r.pattern for r in plans["apps"]] == ["apps/**"]
    assert plans["infra"][0].into_folder is True


@pytest.mark.parametrize(
    ("artifacts", "aliases", "message"),
    [
        (
            [{"name": "a", "copy": [{"from": "@nope/x", "to": "@artifact/"}]}],
            ("repo",),
            r"spec.artifacts\[0\] \(a\).copy\[0\].from: '@nope' names no source; "
            "declared aliases: repo",
        ),
        (
            [{"name": "a", "revision": "@nope", "copy": [{"from": "@repo/x", "to": "@artifact/"}]}],
            ("repo",),
            r"spec.artifacts\[0\] \(a\).revision: '@nope' names no source",
        ),
        (
            [{"name": "a", "copy": [{"from": "@repo/x", "to": "@artifact/"}]}],
            ("repo", "repo"),
            "spec.sources: alias must be unique, repeated: repo",
        ),
        (
            [
                {"name": "a", "copy": [{"from": "@repo/x", "to": "@artifact/"}]},
                {"name": "a", "copy": [{"from": "@repo/y", "to": "@artifact/"}]},
            ],
            ("repo",),
            "spec.artifacts: name must be unique, repeated: a",
        ),
        (
            [{"name": "a", "copy": [{"from": "@repo/../x", "to": "@artifact/"}]}],
            ("repo",),
            r"spec.artifacts\[0\] \(a\).copy\[0\]: .*from must stay inside its root",
        ),
    ],
)
def test_validate_names_the_field_that_is_inconsistent(
    artifacts: list[dict[str, object]], aliases: tuple[str, ...], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        validate(_spec(artifacts, aliases))  # type: ignore[arg-type]

"""Charts are stored as downloaded unless values or build metadata change them.

These run the real Helm SDK on charts written to a temporary folder: no network, no cluster.
"""

from __future__ import annotations

from pathlib import Path

import helm_python as helm
import pytest

from tide.source.helm.build import (
    Build,
    BuildError,
    build_archive,
    build_directory,
    local_chart,
    with_build_metadata,
)

pytestmark = pytest.mark.unit


def write_chart(root: Path, *, version: str = "1.2.3", extra: dict[str, str] | None = None) -> Path:
    chart = root / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: demo\nversion: {version}\n")
    (chart / "values.yaml").write_text("image:\n  tag: v1\n  repo: app\n")
    (chart / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    for name, text in (extra or {}).items():
        (chart / name).write_text(text)
    return chart


def load(archive: Path) -> tuple[str, dict[str, object]]:
    with helm.Chart.load(archive) as chart:
        return chart.version, chart.values


@pytest.mark.parametrize(
    ("version", "metadata", "expected"),
    [
        ("1.2.3", "1", "1.2.3+1"),
        ("1.2.3+old", "abc", "1.2.3+abc"),
        ("v1.2", "abc.2", "1.2.0+abc.2"),
    ],
)
def test_build_metadata_replaces_any_there_was(version: str, metadata: str, expected: str) -> None:
    assert with_build_metadata(version, metadata) == expected


def test_a_version_that_is_not_semver_cannot_take_build_metadata() -> None:
    with pytest.raises(BuildError) as caught:
        with_build_metadata("latest", "1")

    assert caught.value.reason == "MetadataPatchError"
    assert caught.value.persistent
    assert str(caught.value).startswith("chart metadata patch error: ")


def test_the_summary_says_what_was_done_in_fluxs_words() -> None:
    assert Build("demo", "1.0.0").summary() == "pulled 'demo' chart with version '1.0.0'"
    packaged = Build("demo", "1.0.0+1", packaged=True, values_files=["values.yaml", "prod.yaml"])
    assert packaged.summary() == (
        "packaged 'demo' chart with version '1.0.0+1' and merged values files "
        "[values.yaml prod.yaml]"
    )
    assert packaged.reason == "ChartPackageSucceeded"
    assert Build("demo", "1.0.0").reason == "ChartPullSucceeded"


def test_failures_land_on_the_condition_flux_uses() -> None:
    assert BuildError("x", reason="ChartPullError").condition == "FetchFailed"
    assert BuildError("x", reason="InvalidChartReference").condition == "FetchFailed"
    assert BuildError("x", reason="ValuesFilesError").condition == "BuildFailed"
    assert not BuildError("x", reason="ChartPullError").persistent


def test_an_unchanged_archive_is_stored_as_downloaded(tmp_path: Path) -> None:
    archive = Path(helm.package(write_chart(tmp_path / "src"), destination=tmp_path))

    built = build_archive(archive, tmp_path, version="1.2.3", values_files=[])

    assert built.path == archive
    assert not built.packaged


def test_values_files_inside_the_chart_are_merged_into_a_repackaged_archive(
    tmp_path: Path,
) -> None:
    chart = write_chart(tmp_path / "src", extra={"prod.yaml": "image:\n  tag: v2\n"})
    archive = Path(helm.package(chart, destination=tmp_path))

    built = build_archive(
        archive, tmp_path, version="1.2.3+4", values_files=["values.yaml", "prod.yaml"]
    )

    assert built.packaged and built.path is not None and built.path != archive
    assert built.values_files == ["values.yaml", "prod.yaml"]
    assert load(built.path) == ("1.2.3+4", {"image": {"tag": "v2", "repo": "app"}})


def test_a_values_file_missing_from_the_chart_is_a_values_files_error(tmp_path: Path) -> None:
    archive = Path(helm.package(write_chart(tmp_path / "src"), destination=tmp_path))

    with pytest.raises(BuildError) as caught:
        build_archive(archive, tmp_path, version="1.2.3+1", values_files=["absent.yaml"])

    assert caught.value.reason == "ValuesFilesError"
    assert "no values file found at path 'absent.yaml'" in str(caught.value)


def test_bytes_that_are_not_a_chart_are_a_pull_error(tmp_path: Path) -> None:
    archive = tmp_path / "broken.tgz"
    archive.write_bytes(b"not a chart")

    with pytest.raises(BuildError) as caught:
        build_archive(archive, tmp_path, version="1.0.0", values_files=[])

    assert caught.value.reason == "ChartPullError"


def test_a_chart_folder_in_a_source_is_packaged_with_values_from_the_source_root(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    write_chart(source / "charts")
    (source / "env").mkdir()
    (source / "env" / "prod.yaml").write_text("image:\n  tag: v3\n")
    out = tmp_path / "out"
    out.mkdir()

    path, name, version = local_chart(source, "./charts/demo")
    built = build_directory(
        source,
        path,
        out,
        version="1.2.3+abc",
        values_files=["charts/demo/values.yaml", "env/prod.yaml"],
    )

    assert (name, version) == ("demo", "1.2.3")
    assert built.packaged and built.path is not None
    assert load(built.path) == ("1.2.3+abc", {"image": {"tag": "v3", "repo": "app"}})


def test_chart_paths_cannot_climb_out_of_the_source(tmp_path: Path) -> None:
    source = tmp_path / "source"
    write_chart(source)

    path, name, _ = local_chart(source, "../../demo")

    assert path == source / "demo" and name == "demo"


def test_a_path_without_a_chart_is_an_invalid_chart_reference(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    with pytest.raises(BuildError) as caught:
        local_chart(tmp_path, "empty")

    assert caught.value.reason == "InvalidChartReference"
    assert caught.value.persistent


def test_local_dependencies_are_resolved_before_packaging(tmp_path: Path) -> None:
    source = tmp_path / "source"
    parent = write_chart(source)
    child = source / "child"
    child.mkdir()
    (child / "Chart.yaml").write_text("apiVersion: v2\nname: child\nversion: 0.2.0\n")
    (parent / "Chart.yaml").write_text(
        "apiVersion: v2\nname: demo\nversion: 1.2.3\ndependencies:\n"
        "  - name: child\n    version: 0.2.0\n    repository: file://../child\n"
    )
    out = tmp_path / "out"
    out.mkdir()

    built = build_directory(source, parent, out, version="1.2.3", values_files=[])

    assert built.path is not None
    with helm.Chart.load(built.path) as chart:
        assert [d["name"] for d in chart.dependencies] == ["child"]

"""The layer is chosen as Flux chooses it and unpacked without leaving the destination."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from tide.source.oci.layer import LayerError, extract_layer, select_layer
from tide.source.oci.manifest import Descriptor, Manifest

pytestmark = pytest.mark.unit

FLUX = "application/vnd.cncf.flux.content.v1.tar+gzip"
HELM = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
LAYERS = (
    Descriptor(FLUX, "sha256:1", 1),
    Descriptor(HELM, "sha256:2", 2),
    Descriptor(HELM, "sha256:3", 3),
)


def layer(path: Path, entries: list[tarfile.TarInfo], *, compress: bool = True) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for info in entries:
            data = b"x" * info.size if info.isfile() else None
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(gzip.compress(raw.getvalue()) if compress else raw.getvalue())
    return path


def entry(
    name: str, kind: bytes = tarfile.REGTYPE, *, size: int = 0, target: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, target
    return info


def test_without_a_media_type_the_first_layer_is_used() -> None:
    assert select_layer(Manifest("d", "m", LAYERS), None).digest == "sha256:1"


def test_with_a_media_type_the_first_layer_of_that_type_is_used() -> None:
    assert select_layer(Manifest("d", "m", LAYERS), HELM).digest == "sha256:2"


@pytest.mark.parametrize(
    ("layers", "media_type", "message"),
    [
        ((), None, "no layers found in artifact"),
        (LAYERS, "text/plain", "failed to find layer with media type 'text/plain' in artifact"),
    ],
)
def test_a_missing_layer_is_named(
    layers: tuple[Descriptor, ...], media_type: str | None, message: str
) -> None:
    with pytest.raises(LayerError, match=message):
        select_layer(Manifest("d", "m", layers), media_type)


def test_files_and_folders_are_unpacked_and_links_skipped(tmp_path: Path) -> None:
    blob = layer(tmp_path / "blob", [
        entry("deploy", tarfile.DIRTYPE),
        entry("deploy/app.yaml", size=3),
        entry("deploy/link.yaml", tarfile.SYMTYPE, target="/etc/passwd"),
        entry("deploy/hard.yaml", tarfile.LNKTYPE, target="deploy/app.yaml"),
    ])  # fmt: skip
    assert extract_layer(blob, tmp_path / "out") == 1
    assert sorted(p.name for p in (tmp_path / "out" / "deploy").iterdir()) == ["app.yaml"]


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("../escape.yaml", tarfile.REGTYPE, "outside the destination"),
        ("/etc/cron.d/x", tarfile.REGTYPE, "outside the destination"),
        ("dev/null", tarfile.CHRTYPE, "is not a regular file or a folder"),
    ],
)
def test_unsafe_entries_are_refused(tmp_path: Path, name: str, kind: bytes, message: str) -> None:
    blob = layer(tmp_path / "blob", [entry(name, kind)])
    with pytest.raises(LayerError, match=message):
        extract_layer(blob, tmp_path / "out")
    assert not (tmp_path / "escape.yaml").exists()


def test_a_layer_that_is_not_gzip_is_refused(tmp_path: Path) -> None:
    blob = layer(tmp_path / "blob", [entry("a.yaml", size=1)], compress=False)
    with pytest.raises(LayerError, match="not a valid tar\\+gzip layer"):
        extract_layer(blob, tmp_path / "out")

"""The generated CRDs are structural, Flux-shaped and match the checked-in files."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

import tide
from tide.api import crdgen
from tide.api.kinds import KINDS, KindInfo

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "object": dict,
    "array": list,
}
_FORBIDDEN = {"$ref", "$defs", "definitions", "anyOf", "oneOf", "allOf", "not", "title"}


@functools.cache
def _crds() -> dict[str, dict[str, Any]]:
    return {info.kind: crdgen.crd_for(info) for info in KINDS}


def _check_value(value: Any, schema: dict[str, Any], path: str) -> None:
    """Validate a default against its schema node, as the API server does at CRD creation."""
    if schema.get("x-kubernetes-preserve-unknown-fields") and "type" not in schema:
        return
    expected = _TYPES[schema["type"]]
    assert isinstance(value, expected) and not (
        schema["type"] == "integer" and isinstance(value, bool)
    ), f"{path}: default {value!r} is not {schema['type']}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: default {value!r} not in enum"
    if "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{path}: default {value!r} fails pattern"
    if "maxItems" in schema:
        assert len(value) <= schema["maxItems"]
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: default lacks required {key}"
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key) or schema.get("additionalProperties")
            assert sub is not None, f"{path}: default has unknown key {key}"
            _check_value(item, sub, f"{path}.{key}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, schema["items"], f"{path}[{index}]")


def _structural_problems(node: Any, path: str) -> list[str]:
    """List the reasons ``node`` is not a structural schema (empty when it is)."""
    if not isinstance(node, dict):
        return [f"{path}: schema node is not a mapping"]
    problems = [f"{path}: forbidden keyword {k}" for k in sorted(_FORBIDDEN & node.keys())]
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "type" not in node and not preserve and not node.get("x-kubernetes-int-or-string"):
        problems.append(f"{path}: no type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: both properties and additionalProperties")
    opaque = "properties" not in node and "additionalProperties" not in node
    if node.get("type") == "object" and opaque and not preserve and path != ".metadata":
        problems.append(f"{path}: object without properties would be pruned empty")
    missing = set(node.get("required", [])) - set(node.get("properties", {}))
    problems += [f"{path}: required {name} is not a property" for name in sorted(missing)]
    if "default" in node:
        try:
            _check_value(node["default"], node, path)
        except AssertionError as error:
            problems.append(str(error))
    for name, child in node.get("properties", {}).items():
        problems += _structural_problems(child, f"{path}.{name}")
    if "items" in node:
        problems += _structural_problems(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        problems += _structural_problems(node["additionalProperties"], f"{path}{{}}")
    return problems


def _undocumented(node: dict[str, Any], path: str) -> list[str]:
    missing = []
    for name, child in node.get("properties", {}).items():
        if not child.get("description"):
            missing.append(f"{path}.{name}")
        missing += _undocumented(child, f"{path}.{name}")
    if "items" in node:
        missing += _undocumented(node["items"], f"{path}[]")
    return missing


def test_structural_checker_catches_non_structural_schemas() -> None:
    assert _structural_problems({"type": "object", "properties": {"a": {}}}, "") == [".a: no type"]
    bad = {"anyOf": [{"type": "string"}], "title": "X"}
    assert len(_structural_problems(bad, "")) == 3
    assert _structural_problems({"type": "string", "default": 3}, "") != []
    mixed = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {}}
    assert "both properties" in _structural_problems(mixed, "")[0]


@pytest.mark.parametrize("info", KINDS, ids=lambda i: i.kind)
def test_every_schema_is_structural(info: KindInfo) -> None:
    crd = crdgen.crd_for(info)
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert _structural_problems(schema, "") == []
        assert schema["properties"]["metadata"] == {"type": "object"}


@pytest.mark.parametrize("info", KINDS, ids=lambda i: i.kind)
def test_every_field_is_described(info: KindInfo) -> None:
    schema = crdgen.crd_for(info)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _undocumented(schema["properties"]["spec"], ".spec") == []
    if info.has_status:
        assert _undocumented(schema["properties"]["status"], ".status") == []


@pytest.mark.parametrize("info", KINDS, ids=lambda i: i.kind)
def test_versions_subresources_and_columns(info: KindInfo) -> None:
    crd = crdgen.crd_for(info)
    spec = crd["spec"]
    assert crd["metadata"]["name"] == f"{info.plural}.{info.group}"
    assert spec["conversion"] == {"strategy": "None"}
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["listKind"] == f"{info.kind}List"
    versions = {v["name"]: v for v in spec["versions"]}
    assert set(versions) == {info.version, *info.served_versions}
    assert [v["name"] for v in spec["versions"] if v["storage"]] == [info.version]
    assert all(v["served"] for v in spec["versions"])
    for name in info.served_versions:
        assert versions[name]["deprecated"] is True
        assert info.kind in versions[name]["deprecationWarning"]
        # conversion None only relabels: every version must carry the same schema.
        assert versions[name]["schema"] == versions[info.version]["schema"]
    assert "deprecated" not in versions[info.version]
    for version in versions.values():
        assert version["additionalPrinterColumns"] == list(info.printer_columns)
        assert ("subresources" in version) == info.has_status


REQUIRED_SPEC_FIELDS = {
    "GitRepository": ["interval", "url"],
    "HelmRepository": ["url"],
    "HelmChart": ["chart", "interval", "sourceRef"],
    "OCIRepository": ["interval", "url"],
    "Bucket": ["bucketName", "endpoint", "interval"],
    "ExternalArtifact": [],
    "ArtifactGenerator": ["artifacts", "sources"],
    "Kustomization": ["interval", "prune", "sourceRef"],
    "HelmRelease": ["interval"],
    "ImageRepository": ["image", "interval"],
    "ImagePolicy": ["imageRepositoryRef", "policy"],
    "ImageUpdateAutomation": ["interval", "sourceRef"],
    "Alert": ["eventSources", "providerRef"],
    "Provider": ["type"],
    "Receiver": ["resources", "secretRef", "type"],
}


def test_required_spec_fields_match_flux() -> None:
    found = {
        kind: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].get(
            "required", []
        )
        for kind, crd in _crds().items()
    }
    assert found == REQUIRED_SPEC_FIELDS


def _spec(kind: str) -> dict[str, Any]:
    schema = _crds()[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["spec"]["properties"]


def test_flux_specific_schema_details() -> None:
    git = _spec("GitRepository")
    assert git["interval"] == {
        "description": git["interval"]["description"],
        "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$",
        "type": "string",
    }
    assert git["timeout"]["pattern"] == r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"
    assert git["timeout"]["default"] == "60s"
    assert git["url"]["pattern"] == "^(http|https|ssh)://.*$"
    assert git["provider"]["enum"] == ["generic", "aws", "azure", "github"]
    helm = _spec("HelmRelease")
    assert helm["values"]["x-kubernetes-preserve-unknown-fields"] is True
    assert helm["releaseName"]["maxLength"] == 53
    ks = _spec("Kustomization")
    assert ks["postBuild"]["properties"]["substitute"] == {
        "additionalProperties": {"type": "string"},
        "description": ks["postBuild"]["properties"]["substitute"]["description"],
        "type": "object",
    }
    assert ks["patches"]["items"]["properties"]["patch"]["type"] == "string"
    assert _spec("ImageRepository")["exclusionList"]["default"] == [r"^.*\.sig$"]
    assert _spec("ImageUpdateAutomation")["update"]["default"] == {"strategy": "Setters"}


def test_cel_rules_are_emitted() -> None:
    schema = _crds()["HelmRelease"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    rules = schema["properties"]["spec"]["x-kubernetes-validations"]
    assert rules[0]["message"] == "either chart or chartRef must be set"


def test_status_defaults_observed_generation() -> None:
    for kind, crd in _crds().items():
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        if kind in ("Alert", "Provider"):
            assert "status" not in schema["properties"]
        elif kind == "ExternalArtifact":  # written by its producer: no generation to observe
            assert "default" not in schema["properties"]["status"]
            assert "required" not in schema
        else:
            assert schema["properties"]["status"]["default"] == {"observedGeneration": -1}


def test_render_all_is_deterministic_and_complete() -> None:
    files = crdgen.render_all()
    assert files == crdgen.render_all()
    expected = {f"{info.group}_{info.plural}.yaml" for info in KINDS} | {"kustomization.yaml"}
    assert set(files) == expected
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert kustomization["resources"] == sorted(expected - {"kustomization.yaml"})
    for name, text in files.items():
        assert "&id" not in text and "*id" not in text, f"{name} uses YAML anchors"
        assert text.startswith(crdgen.HEADER)
        if name != "kustomization.yaml":
            doc = yaml.safe_load(text)
            assert doc["kind"] == "CustomResourceDefinition"


def test_checked_in_crds_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert crdgen.main(["--check", "--out", str(REPO / "config" / "crd")]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_names_missing_and_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert crdgen.main(["--out", str(tmp_path)]) == 0
    assert crdgen.main(["--check", "--out", str(tmp_path)]) == 0
    stale = tmp_path / "source.toolkit.fluxcd.io_gitrepositories.yaml"
    stale.write_text(stale.read_text() + "# edited\n")
    (tmp_path / "helm.toolkit.fluxcd.io_helmreleases.yaml").unlink()
    capsys.readouterr()
    assert crdgen.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"stale: {stale}" in err
    assert "missing: " in err and "helm.toolkit.fluxcd.io_helmreleases.yaml" in err
    assert "python -m tide.api.crdgen" in err


def test_unions_are_refused() -> None:
    with pytest.raises(ValueError, match="union"):
        crdgen._convert({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {})


# Which Flux controller serves each group's kinds, in Flux's own words.
FLUX_COMPONENTS = {
    "GitRepository": "source-controller",
    "HelmRepository": "source-controller",
    "HelmChart": "source-controller",
    "OCIRepository": "source-controller",
    "Bucket": "source-controller",
    "ExternalArtifact": "source-controller",
    "ArtifactGenerator": "source-watcher",
    "Kustomization": "kustomize-controller",
    "HelmRelease": "helm-controller",
    "ImageRepository": "image-reflector-controller",
    "ImagePolicy": "image-reflector-controller",
    "ImageUpdateAutomation": "image-automation-controller",
    "Alert": "notification-controller",
    "Provider": "notification-controller",
    "Receiver": "notification-controller",
}


def test_checked_in_crds_carry_the_labels_flux_check_reads() -> None:
    found = {}
    for path in sorted((REPO / "config" / "crd").glob("*_*.yaml")):
        crd = yaml.safe_load(path.read_text())
        found[crd["spec"]["names"]["kind"]] = crd["metadata"]["labels"]
    assert {kind: labels["app.kubernetes.io/component"] for kind, labels in found.items()} == (
        FLUX_COMPONENTS
    )
    for kind, labels in found.items():
        assert labels["app.kubernetes.io/part-of"] == "flux", kind
        assert labels["app.kubernetes.io/version"] == f"v{tide.__version__}", kind
        assert set(labels) == {
            "app.kubernetes.io/component",
            "app.kubernetes.io/part-of",
            "app.kubernetes.io/version",
        }, kind


def test_the_version_label_is_the_packaged_version() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "src/tide/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+([-.+].+)?", tide.__version__)

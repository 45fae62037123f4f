"""The Flux models accept what the API server accepts and refuse what it refuses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tide.api import (
    Condition,
    GitRepository,
    GitRepositorySpec,
    HelmChartSpec,
    HelmRelease,
    HelmReleaseSpec,
    ImagePolicySpec,
    ImageRepositorySpec,
    ImageUpdateAutomationSpec,
    Kustomization,
    KustomizationSpec,
    ObjectMeta,
    ReceiverSpec,
    find_kind,
    format_duration,
    parse_duration,
)
from tide.api._shared import KubeConfigReference
from tide.api.source import BucketSpec

pytestmark = pytest.mark.unit

MANIFESTS = Path(__file__).resolve().parents[2] / "testdata" / "manifests"
VALID = sorted((MANIFESTS / "valid").glob("*.yaml"))
INVALID = sorted((MANIFESTS / "invalid").glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (\S+)\s*$", re.MULTILINE)


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _loc(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location the way the API server names fields."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error_paths(error: ValidationError) -> list[str]:
    return [_loc(e["loc"]) for e in error.errors()]


def _is_subset(small: Any, big: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            k in big and _is_subset(v, big[k]) for k, v in small.items()
        )
    if isinstance(small, list):
        return (
            isinstance(big, list)
            and len(small) == len(big)
            and all(_is_subset(a, b) for a, b in zip(small, big, strict=True))
        )
    return small == big


def test_testdata_is_present() -> None:
    assert len(VALID) >= 12
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_manifest_parses_and_round_trips(path: Path) -> None:
    for doc in _documents(path):
        model = find_kind(doc["apiVersion"], doc["kind"]).model
        obj = model.model_validate(doc)
        dumped = obj.to_dict()
        # Everything written survives, under the same JSON names; only defaults are added.
        assert _is_subset(doc, dumped), f"{path.name}: {doc} not within {dumped}"
        assert model.model_validate(dumped) == obj


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_manifest_is_refused_naming_the_field(path: Path) -> None:
    match = _EXPECT.search(path.read_text())
    assert match, f"{path.name} lacks a '# expect: <field path>' line"
    expected = match.group(1)
    (doc,) = _documents(path)
    model = find_kind(doc["apiVersion"], doc["kind"]).model
    with pytest.raises(ValidationError) as caught:
        model.model_validate(doc)
    assert expected in _error_paths(caught.value), _error_paths(caught.value)


def test_defaults_match_flux() -> None:
    git = GitRepositorySpec.model_validate({"url": "https://example.com/repo", "interval": "1m"})
    assert git.timeout == "60s"
    chart = HelmChartSpec.model_validate(
        {"chart": "podinfo", "interval": "5m", "sourceRef": {"kind": "HelmRepository", "name": "x"}}
    )
    assert (chart.version, chart.reconcile_strategy) == ("*", "ChartVersion")
    ks = KustomizationSpec.model_validate(
        {"interval": "5m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "x"}}
    )
    assert ks.force is False
    images = ImageRepositorySpec.model_validate({"image": "ghcr.io/a/b", "interval": "5m"})
    assert images.exclusion_list == [r"^.*\.sig$"]
    assert images.provider == "generic"
    auto = ImageUpdateAutomationSpec.model_validate(
        {"interval": "5m", "sourceRef": {"name": "repo"}}
    )
    assert auto.update is not None and auto.update.strategy == "Setters"
    assert auto.source_ref.kind == "GitRepository"
    receiver = ReceiverSpec.model_validate(
        {
            "type": "github",
            "secretRef": {"name": "t"},
            "resources": [{"kind": "GitRepository", "name": "podinfo"}],
        }
    )
    assert receiver.interval == "10m"


def test_serialization_uses_flux_json_names_and_omits_unset_fields() -> None:
    spec = HelmReleaseSpec.model_validate(
        {
            "interval": "5m",
            "chartRef": {"kind": "OCIRepository", "name": "podinfo"},
            "install": {"disableOpenAPIValidation": True, "skipCRDs": False},
            "postRenderers": [{"kustomize": {"patchesJson6902": []}}],
        }
    )
    dumped = spec.model_dump(mode="json")
    assert dumped == {
        "interval": "5m",
        "chartRef": {"kind": "OCIRepository", "name": "podinfo"},
        "install": {"disableOpenAPIValidation": True, "skipCRDs": False},
        "postRenderers": [{"kustomize": {"patchesJson6902": []}}],
    }
    assert '"chartRef"' in spec.model_dump_json()
    assert "null" not in spec.model_dump_json()


def test_python_names_populate_fields() -> None:
    obj = GitRepository(
        metadata=ObjectMeta(name="podinfo", namespace="default"),
        spec=GitRepositorySpec(url="https://github.com/stefanprodan/podinfo", interval="1m"),
    )
    assert obj.api_version == "source.toolkit.fluxcd.io/v1"
    assert obj.kind == "GitRepository"
    assert obj.to_dict()["apiVersion"] == "source.toolkit.fluxcd.io/v1"


def test_older_served_version_is_accepted_and_kept() -> None:
    doc = _documents(MANIFESTS / "valid" / "gitrepository-v1beta2.yaml")[0]
    obj = GitRepository.model_validate(doc)
    assert obj.api_version == "source.toolkit.fluxcd.io/v1beta2"


@pytest.mark.parametrize(
    ("field", "value"),
    [("apiVersion", "source.toolkit.fluxcd.io/v1alpha1"), ("kind", "HelmRepository")],
)
def test_type_meta_must_match_the_model(field: str, value: str) -> None:
    doc = _documents(MANIFESTS / "valid" / "gitrepository-podinfo.yaml")[0]
    doc[field] = value
    with pytest.raises(ValidationError) as caught:
        GitRepository.model_validate(doc)
    assert field in _error_paths(caught.value)


def test_metadata_needs_a_name() -> None:
    with pytest.raises(ValidationError, match=r"metadata\.name or metadata\.generateName"):
        ObjectMeta.model_validate({"namespace": "default"})
    assert ObjectMeta.model_validate({"generateName": "podinfo-"}).generate_name == "podinfo-"


def test_metadata_keeps_unknown_keys() -> None:
    meta = ObjectMeta.model_validate({"name": "a", "ownerReferences": [{"kind": "X"}]})
    assert meta.to_dict()["ownerReferences"] == [{"kind": "X"}]


def test_strict_types_refuse_coercion() -> None:
    base = {"interval": "5m", "sourceRef": {"kind": "GitRepository", "name": "x"}}
    with pytest.raises(ValidationError):
        KustomizationSpec.model_validate({**base, "prune": 1})
    with pytest.raises(ValidationError):
        HelmReleaseSpec.model_validate(
            {"interval": "5m", "chartRef": {"kind": "HelmChart", "name": "x"}, "maxHistory": "5"}
        )


def test_helm_release_needs_exactly_one_chart_source() -> None:
    chart = {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "p"}}}
    chart_ref = {"kind": "OCIRepository", "name": "podinfo"}
    with pytest.raises(ValidationError, match="either chart or chartRef must be set"):
        HelmReleaseSpec.model_validate({"interval": "1m", "chart": chart, "chartRef": chart_ref})
    assert HelmReleaseSpec.model_validate({"interval": "1m", "chart": chart}).chart is not None


def test_image_policy_interval_only_with_always() -> None:
    base = {"imageRepositoryRef": {"name": "r"}, "policy": {"semver": {"range": "1.x"}}}
    with pytest.raises(ValidationError, match="only accepted"):
        ImagePolicySpec.model_validate({**base, "interval": "5m"})
    with pytest.raises(ValidationError, match="must be set"):
        ImagePolicySpec.model_validate({**base, "digestReflectionPolicy": "Always"})
    ok = ImagePolicySpec.model_validate(
        {**base, "digestReflectionPolicy": "Always", "interval": "5m"}
    )
    assert ok.interval == "5m"


def test_git_service_account_needs_cloud_provider() -> None:
    base = {"url": "https://dev.azure.com/org/repo", "interval": "1m"}
    with pytest.raises(ValidationError, match="serviceAccountName can only be set"):
        GitRepositorySpec.model_validate({**base, "serviceAccountName": "sa"})
    spec = GitRepositorySpec.model_validate(
        {**base, "serviceAccountName": "sa", "provider": "azure"}
    )
    assert spec.provider == "azure"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"provider": "gcp", "sts": {"provider": "aws", "endpoint": "https://sts"}}, "STS"),
        ({"sts": {"provider": "aws", "endpoint": "https://sts"}}, "'ldap' is the only"),
        ({"serviceAccountName": "sa"}, "not supported for the 'generic'"),
        (
            {"provider": "aws", "serviceAccountName": "sa", "secretRef": {"name": "s"}},
            "cannot set both",
        ),
    ],
)
def test_bucket_provider_rules(extra: dict[str, Any], message: str) -> None:
    base = {"bucketName": "b", "endpoint": "s3.example.com", "interval": "5m"}
    with pytest.raises(ValidationError, match=message):
        BucketSpec.model_validate({**base, **extra})


def test_kubeconfig_rules() -> None:
    assert KubeConfigReference.model_validate({"secretRef": {"name": "kc"}}).provider == "generic"
    with pytest.raises(ValidationError, match=r"\.secretRef or \.configMapRef is required"):
        KubeConfigReference.model_validate({})
    assert KubeConfigReference.model_validate({"configMapRef": {"name": "wi"}}).config_map_ref
    with pytest.raises(ValidationError, match="exactly one of"):
        KubeConfigReference.model_validate(
            {"secretRef": {"name": "kc"}, "configMapRef": {"name": "wi"}}
        )
    with pytest.raises(ValidationError, match="not supported for the specified"):
        KubeConfigReference.model_validate({"provider": "aws", "secretRef": {"name": "kc"}})
    with pytest.raises(ValidationError, match=r"\.cluster is not supported"):
        KubeConfigReference.model_validate({"secretRef": {"name": "kc"}, "cluster": "c"})
    with pytest.raises(ValidationError):
        KubeConfigReference.model_validate({"provider": "gcp", "address": "http://insecure"})


def _condition(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": "True",
        "lastTransitionTime": "2024-05-01T10:00:00Z",
        "reason": "Succeeded",
        "message": "stored artifact",
        **overrides,
    }


def test_condition_accepts_metav1_shape() -> None:
    condition = Condition.model_validate(_condition(observedGeneration=3))
    assert condition.to_dict() == _condition(observedGeneration=3)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "Maybe"}, "status"),
        ({"reason": "has spaces"}, "reason"),
        ({"reason": "Trailing-"}, "reason"),
        ({"reason": ""}, "reason"),
        ({"message": "x" * 32769}, "message"),
        ({"lastTransitionTime": "yesterday"}, "lastTransitionTime"),
        ({"observedGeneration": -1}, "observedGeneration"),
        ({"type": "not a type"}, "type"),
    ],
)
def test_condition_refuses_what_metav1_refuses(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Condition.model_validate(_condition(**overrides))
    assert field in _error_paths(caught.value)


def test_condition_reason_allows_commas_and_colons() -> None:
    assert Condition.model_validate(_condition(reason="A_b,c:D")).reason == "A_b,c:D"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1m", 60.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("2h0m0s", 7200.0),
        ("30m0s", 1800.0),
        ("1h1m1s1ms", 3661.001),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "10 minutes", "1d", "-1s", "1.s", "m", "1us"])
def test_parse_duration_refuses_non_flux_durations(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)


def test_status_round_trips() -> None:
    status = {
        "observedGeneration": 2,
        "lastHandledReconcileAt": "2024-05-01T10:00:00Z",
        "conditions": [_condition()],
        "lastAppliedRevision": "main@sha1:0123456789abcdef",
        "lastAttemptedRevision": "main@sha1:0123456789abcdef",
        "inventory": {"entries": [{"id": "default_podinfo_apps_Deployment", "v": "v1"}]},
    }
    doc = _documents(MANIFESTS / "valid" / "kustomization-podinfo.yaml")[0]
    obj = Kustomization.model_validate({**doc, "status": status})
    assert obj.status is not None and obj.status.inventory is not None
    assert obj.status.inventory.entries[0].v == "v1"
    assert obj.to_dict()["status"] == status


def test_helm_release_history_round_trips() -> None:
    snapshot = {
        "digest": "sha256:abc",
        "name": "podinfo",
        "namespace": "default",
        "version": 1,
        "status": "deployed",
        "chartName": "podinfo",
        "chartVersion": "6.5.4",
        "configDigest": "sha256:def",
        "firstDeployed": "2024-05-01T10:00:00Z",
        "lastDeployed": "2024-05-01T10:00:00Z",
        "testHooks": {"podinfo-grpc-test": {"phase": "Succeeded"}},
    }
    doc = _documents(MANIFESTS / "valid" / "helmrelease-chartref.yaml")[0]
    obj = HelmRelease.model_validate({**doc, "status": {"history": [snapshot]}})
    assert obj.to_dict()["status"]["history"] == [snapshot]


def test_artifact_digest_pattern() -> None:
    artifact = {
        "path": "gitrepository/default/podinfo/abc.tar.gz",
        "url": "http://source-controller/gitrepository/default/podinfo/abc.tar.gz",
        "revision": "master@sha1:abc",
        "lastUpdateTime": "2024-05-01T10:00:00Z",
        "size": 1024,
        "digest": "sha256:2d9b7b4d8a47",
    }
    doc = _documents(MANIFESTS / "valid" / "gitrepository-podinfo.yaml")[0]
    obj = GitRepository.model_validate({**doc, "status": {"artifact": artifact}})
    assert obj.to_dict()["status"]["artifact"] == artifact
    with pytest.raises(ValidationError) as caught:
        GitRepository.model_validate({**doc, "status": {"artifact": {**artifact, "digest": "x"}}})
    assert "status.artifact.digest" in _error_paths(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (15, "15s"),
        (1.5, "1.5s"),
        (90, "1m30s"),
        (300, "5m0s"),
        (3600, "1h0m0s"),
        (5400, "1h30m0s"),
    ],
)
def test_durations_print_as_flux_messages_print_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)

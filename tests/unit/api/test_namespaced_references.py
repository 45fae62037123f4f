"""Every field of a Tide kind that can name another namespace is accounted for.

Under ``--no-cross-namespace-refs`` a tenant must not reach outside its namespace. A reference
can only do that if the CRD has a ``namespace`` field for it (the API server prunes any other
key), so this walks the generated schemas and fails when such a field appears that the table
below does not place: a new reference has to be blocked by ``tide.runtime.acl`` (or shown
harmless) before it ships.
"""

from __future__ import annotations

from typing import Any

import pytest

from tide.api import crdgen
from tide.api.kinds import KINDS

pytestmark = pytest.mark.unit

BLOCKED = "refused by --no-cross-namespace-refs (tide.runtime.acl)"
IMPERSONATED = "read as the identity that applies, so the API server's RBAC decides"
SELECTOR = "selects objects in the build output; reads nothing from the cluster"
PRODUCER = "names the object that wrote it; no controller follows it to read anything"
NO_CONTROLLER = "no Tide controller reads this kind yet; it must use tide.runtime.acl when one does"

NAMESPACED_FIELDS = {
    ("Kustomization", "spec.sourceRef"): BLOCKED,
    ("Kustomization", "spec.dependsOn[]"): BLOCKED,
    ("Kustomization", "spec.healthChecks[]"): IMPERSONATED,
    ("Kustomization", "spec.patches[].target"): SELECTOR,
    ("Kustomization", "spec.driftIgnoreRules[].target"): SELECTOR,
    ("ArtifactGenerator", "spec.sources[]"): BLOCKED,
    ("ExternalArtifact", "spec.sourceRef"): PRODUCER,
    ("HelmRelease", "spec.chart.spec.sourceRef"): NO_CONTROLLER,
    ("HelmRelease", "spec.chartRef"): NO_CONTROLLER,
    ("HelmRelease", "spec.dependsOn[]"): NO_CONTROLLER,
    ("HelmRelease", "spec.driftDetection.ignore[].target"): SELECTOR,
    ("HelmRelease", "spec.postRenderers[].kustomize.patches[].target"): SELECTOR,
    ("HelmRelease", "spec.postRenderers[].kustomize.patchesJson6902[].target"): SELECTOR,
    ("ImagePolicy", "spec.imageRepositoryRef"): NO_CONTROLLER,
    ("ImageUpdateAutomation", "spec.sourceRef"): NO_CONTROLLER,
    ("Alert", "spec.eventSources[]"): NO_CONTROLLER,
    # The Receiver controller publishes the webhook path only; nothing serves the hook yet.
    ("Receiver", "spec.resources[]"): NO_CONTROLLER,
}
"""(kind, field) → why a reference into another namespace cannot escape through it."""


def _namespaced_fields(schema: dict[str, Any], path: str) -> list[str]:
    found = []
    properties = schema.get("properties") or {}
    if "namespace" in properties and path:
        found.append(path)
    for name, child in properties.items():
        found += _namespaced_fields(child, f"{path}.{name}" if path else name)
    if "items" in schema:
        found += _namespaced_fields(schema["items"], f"{path}[]")
    return found


def _spec_fields() -> set[tuple[str, str]]:
    found = set()
    for info in KINDS:
        for version in crdgen.crd_for(info)["spec"]["versions"]:
            spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
            found |= {(info.kind, path) for path in _namespaced_fields(spec, "spec")}
    return found


def test_every_field_that_can_name_a_namespace_is_accounted_for() -> None:
    assert _spec_fields() == set(NAMESPACED_FIELDS)


@pytest.mark.parametrize(
    "kind", ["GitRepository", "HelmRepository", "HelmChart", "OCIRepository", "Bucket"]
)
def test_source_kinds_refer_only_within_their_namespace(kind: str) -> None:
    # GitRepository include[].repository and HelmChart sourceRef included: a ``namespace``
    # written there is pruned by the API server.
    assert not [path for k, path in _spec_fields() if k == kind]


@pytest.mark.parametrize(
    "field", ["decryption.secretRef", "kubeConfig.secretRef", "postBuild.substituteFrom"]
)
def test_a_kustomizations_secrets_are_read_in_its_own_namespace(field: str) -> None:
    info = next(info for info in KINDS if info.kind == "Kustomization")
    node = crdgen.crd_for(info)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    node = node["properties"]["spec"]
    for part in field.split("."):
        node = node["properties"][part]
    node = node.get("items", node)

    assert "namespace" not in node["properties"]
    assert not node.get("x-kubernetes-preserve-unknown-fields")

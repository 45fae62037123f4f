"""Moving from Flux: ``tide install`` on a cluster holding Flux's own CRDs and objects.

Flux's CRDs as released (``/work/shared/flux-crds``, Flux v2.9) are applied the way ``flux
install`` applies them (server-side, another field manager), objects of every kind are stored
under them with finalizers and status, then ``tide install`` runs. Every object must still be
there, unchanged, readable at every version Tide serves, and valid for Tide's models.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import eventually
from tests.integration.install.conftest import tide
from tide import yamlio
from tide.api.keys import FINALIZER
from tide.api.kinds import KINDS, KindInfo
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import DEPLOYMENT, ResourceType
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

FLUX_CRDS = Path("/work/shared/flux-crds")
FLUX_CRD_DOCUMENTS = [yamlio.load(path.read_text()) for path in sorted(FLUX_CRDS.glob("*.yaml"))]
TENANT = "legacy"
REPO = {"kind": "GitRepository", "name": "repo"}
CHARTS = {"kind": "HelmRepository", "name": "charts"}
OBJECTS: dict[str, dict[str, Any]] = {
    "GitRepository": {
        "url": "https://example.com/repo.git",
        "interval": "1m",
        "ref": {"branch": "main"},
    },
    "HelmRepository": {"url": "https://charts.example.com", "interval": "10m"},
    "OCIRepository": {
        "url": "oci://ghcr.io/example/manifests",
        "interval": "5m",
        "ref": {"tag": "v1"},
    },
    "Bucket": {"bucketName": "manifests", "endpoint": "minio.example.com", "interval": "5m"},
    "HelmChart": {"chart": "podinfo", "sourceRef": CHARTS, "interval": "5m"},
    "Kustomization": {"interval": "10m", "path": "./deploy", "prune": True, "sourceRef": REPO},
    "HelmRelease": {"interval": "5m", "chart": {"spec": {"chart": "podinfo", "sourceRef": CHARTS}}},
    "Provider": {"type": "slack", "channel": "general"},
    "Alert": {
        "providerRef": {"name": "slack"},
        "eventSources": [{"kind": "Kustomization", "name": "*"}],
    },
    "Receiver": {"type": "generic", "secretRef": {"name": "token"}, "resources": [REPO]},
    "ImageRepository": {"image": "ghcr.io/example/app", "interval": "5m"},
    "ImagePolicy": {
        "imageRepositoryRef": {"name": "app"},
        "policy": {"semver": {"range": ">=1.0.0"}},
    },
    "ImageUpdateAutomation": {
        "interval": "5m",
        "sourceRef": REPO,
        "git": {"commit": {"author": {"email": "bot@example.com", "name": "bot"}}},
        "update": {"strategy": "Setters", "path": "./"},
    },
}
STATUS = {
    "observedGeneration": 1,
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Succeeded",
            "message": "stored artifact for revision 'main@sha1:0123'",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
            "observedGeneration": 1,
        }
    ],
}
ARTIFACT = {
    "path": "gitrepository/legacy/repo/0123.tar.gz",
    "url": "http://source-controller.flux-system.svc.cluster.local./gitrepository/legacy/repo/0123.tar.gz",
    "revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
    "digest": "sha256:" + "a" * 64,
    "lastUpdateTime": "2025-01-01T00:00:00Z",
    "size": 1024,
}  # fmt: skip


NOTIFIER = "notification-controller"
FLUX_NOTIFICATION_CONTROLLER = {
    "metadata": {"name": NOTIFIER, "namespace": "flux-system", "labels": {"app": NOTIFIER}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": NOTIFIER}},
        "template": {
            "metadata": {"labels": {"app": NOTIFIER}},
            "spec": {
                "containers": [
                    {
                        "name": "manager",
                        "image": "ghcr.io/fluxcd/notification-controller:v1.9.0",
                        "args": ["--watch-all-namespaces=true", "--log-encoding=json"],
                        "env": [
                            {"name": "RUNTIME_NAMESPACE", "value": "flux-system"},
                            {"name": "GOMAXPROCS", "value": "1"},
                        ],
                        "ports": [
                            {"containerPort": 9090, "name": "http", "protocol": "TCP"},
                            {"containerPort": 9292, "name": "http-webhook", "protocol": "TCP"},
                            {"containerPort": 8080, "name": "http-prom", "protocol": "TCP"},
                            {"containerPort": 9440, "name": "healthz", "protocol": "TCP"},
                        ],
                    }
                ]
            },
        },
    },
}
"""notification-controller as Flux deploys it, in the parts that clash with Tide's."""


def find_kind(kind: str) -> KindInfo:
    return next(info for info in KINDS if info.kind == kind)


def _rt(kind: str, version: str) -> ResourceType:
    info = find_kind(kind)
    return ResourceType(info.group, version, info.kind, info.plural)


async def test_install_takes_over_fluxs_crds_and_every_stored_object_stays_readable_and_valid(
    own_plane: ControlPlane, own_kube: KubeClient
) -> None:
    flux = KubeClient.from_kubeconfig(own_plane.kubeconfig, field_manager="flux")
    try:
        await _install_flux(flux)
        stored = await _store_objects(flux)
        await flux.apply(resources.NAMESPACE, {"metadata": {"name": "flux-system"}})
        await flux.apply(DEPLOYMENT, FLUX_NOTIFICATION_CONTROLLER)
    finally:
        await flux.close()

    ran = await tide(own_plane.kubeconfig, "install", "--timeout", "3m")
    assert ran.code == 0, ran.stderr

    # Flux's Deployment is Tide's now, not a merge of both (Flux's events port is 9090).
    deployment = await own_kube.get(DEPLOYMENT, NOTIFIER, namespace="flux-system")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("ghcr.io/tide-gitops/tide:")
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": 9091,
        "http-webhook": 9292,
        "http-prom": 8080,
        "healthz": 9440,
    }
    assert [e["name"] for e in container["env"]] == ["RUNTIME_NAMESPACE", "HOME"]
    assert _spec_owners(deployment) == {"tide"}

    for kind, original in stored.items():
        info = find_kind(kind)
        crd = await own_kube.get(resources.CRD, info.crd_name)
        assert crd["metadata"]["labels"]["app.kubernetes.io/instance"] == "flux-system"
        assert crd["status"]["storedVersions"] == [info.version]
        # Taken over whole: no field of the spec is still Flux's (no merged schema).
        assert _spec_owners(crd) == {"tide"}
        assert {v["name"] for v in crd["spec"]["versions"]} == {
            info.version,
            *info.served_versions,
        }
        for api_version in info.api_versions:
            version = api_version.rsplit("/", 1)[1]
            live = await own_kube.get(_rt(kind, version), kind.lower(), namespace=TENANT)
            assert live["spec"] == original["spec"], (kind, version)
            assert live["metadata"]["finalizers"] == [FINALIZER]
            assert live.get("status") == original.get("status"), (kind, version)
            info.model.model_validate(live)
        # Still writable under Tide's schema: a change a user makes after the move.
        changed = await own_kube.patch_merge(
            _rt(kind, info.version),
            kind.lower(),
            {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}},
            namespace=TENANT,
        )
        assert changed["metadata"]["generation"] == original["metadata"]["generation"]


def _spec_owners(obj: dict[str, Any]) -> set[str]:
    return {e["manager"] for e in obj["metadata"]["managedFields"] if "f:spec" in e["fieldsV1"]}


async def _install_flux(flux: KubeClient) -> None:
    crds = FLUX_CRD_DOCUMENTS
    for crd in crds:
        await flux.apply(resources.CRD, crd)

    async def established() -> bool:
        for name in (crd["metadata"]["name"] for crd in crds):
            crd = await flux.get(resources.CRD, name)
            ready = {
                c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []
            }
            if ready.get("Established") != "True":
                return False
        return True

    await eventually(established, what="Flux's CRDs established")
    await flux.apply(resources.NAMESPACE, {"metadata": {"name": TENANT}})


async def _store_objects(flux: KubeClient) -> dict[str, dict[str, Any]]:
    stored = {}
    for kind, spec in OBJECTS.items():
        info = find_kind(kind)
        rt = _rt(kind, info.version)
        body = {
            "apiVersion": info.api_version,
            "kind": kind,
            "metadata": {"name": kind.lower(), "namespace": TENANT, "finalizers": [FINALIZER]},
            "spec": copy.deepcopy(spec),
        }
        created = await flux.create(rt, body)
        if info.has_status:
            status = copy.deepcopy(STATUS)
            if kind == "GitRepository":
                status["artifact"] = ARTIFACT
            key = {"name": body["metadata"]["name"], "namespace": TENANT}
            created = await flux.apply_status(
                rt,
                {"apiVersion": info.api_version, "kind": kind, "metadata": key, "status": status},
            )
        stored[kind] = created
    return stored

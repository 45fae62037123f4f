"""What the Kustomization integration tests share: a fleet repository and ways to drive it."""

from __future__ import annotations

from typing import Any

from tests.integration.helpers import eventually
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.7.0
"""
FILES = {
    "apps/base/podinfo/deployment.yaml": BASE,
    "apps/base/podinfo/config.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo-config\n"
        "data:\n  color: ${color:=blue}\n"
    ),
    "apps/base/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n  - config.yaml\n",
    "apps/production/kustomization.yaml": (
        "resources:\n  - ../base/podinfo\npatches:\n  - path: replicas.yaml\n"
    ),
    "apps/production/replicas.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 3\n"
    ),
}


async def given_source(kube: KubeClient, namespace: str, git: GitServer, repo: str) -> None:
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": namespace},
        "spec": {"interval": "10m", "url": git.http_url(repo), "ref": {"branch": "main"}},
    })  # fmt: skip


async def create_kustomization(
    kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]
) -> None:
    await kube.create(KUSTOMIZATION, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "targetNamespace": namespace,
            **spec,
        },
    })  # fmt: skip


def ready_condition(obj: dict[str, Any]) -> dict[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition["type"] == "Ready":
            return condition
    return None


async def wait_for(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    status: str,
    reason: str | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(KUSTOMIZATION, name, namespace=namespace)
        ready = ready_condition(obj)
        wanted = ready is not None and (reason is None or ready["reason"] == reason)
        current = (
            ready is not None and ready.get("observedGeneration") == obj["metadata"]["generation"]
        )
        return obj if wanted and current and ready["status"] == status else None

    return await eventually(probe, timeout=timeout, what=f"Kustomization {name} Ready={status}")


async def request_reconcile(
    kube: KubeClient, rt: ResourceType, namespace: str, name: str, token: str
) -> None:
    await kube.patch_merge(rt, name, {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": token}}}, namespace=namespace)  # fmt: skip

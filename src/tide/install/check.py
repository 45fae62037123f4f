"""Judge whether a cluster can run Tide (``check --pre``) and whether Tide runs there (``check``).

Every check yields :class:`Finding` lines rather than raising, so ``tide check`` lists each
problem on its own line instead of stopping at the first. What "installed" means is read from
:func:`tide.install.render`: the CRDs and Deployments a ``tide install`` with the same options
would create, so the two never disagree on names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tide.install.manifests import InstallOptions, render
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeNotFound

__all__ = [
    "MINIMUM_KUBERNETES",
    "REQUIRED_APIS",
    "Finding",
    "Verdict",
    "check_installation",
    "check_prerequisites",
    "deployment_problem",
    "deployment_version",
    "kubernetes_version",
]

MINIMUM_KUBERNETES = (1, 30)
"""The oldest Kubernetes minor Tide supports.

Tide's CRDs validate with CEL rules (``x-kubernetes-validations``, GA in 1.29) and every write is
server-side apply; 1.30 is the minimum Flux 2.5 — whose API versions Tide serves — requires, and
the oldest minor still receiving upstream patches when Tide's API was fixed.
"""

REQUIRED_APIS = (
    "apps/v1",
    "apiextensions.k8s.io/v1",
    "coordination.k8s.io/v1",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
)
"""API groups the install uses: Deployments, CRDs, leader-election Leases, NetworkPolicies, RBAC."""


_MINOR = re.compile(r"\d+")


class Verdict(StrEnum):
    """How one line of a check reads: passed, failed, or information."""

    OK = "ok"
    FAILED = "failed"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One line of ``tide check``'s report."""

    verdict: Verdict
    text: str


async def kubernetes_version(client: KubeClient) -> tuple[str, tuple[int, int]]:
    """Return the API server's ``gitVersion`` and its ``(major, minor)``.

    Managed clusters report minors such as ``30+``; only the leading digits count.
    """
    info = await client.get_json("/version")
    major = _MINOR.match(str(info.get("major", "")))
    minor = _MINOR.match(str(info.get("minor", "")))
    if major is None or minor is None:
        raise KubeError(f"the API server reported no usable version: {info!r}")
    return str(info.get("gitVersion", "")), (int(major.group()), int(minor.group()))


async def check_prerequisites(client: KubeClient) -> list[Finding]:
    """Check the Kubernetes version against :data:`MINIMUM_KUBERNETES` and the API groups."""
    findings: list[Finding] = []
    git_version, version = await kubernetes_version(client)
    wanted = ">={}.{}.0-0".format(*MINIMUM_KUBERNETES)
    shown = git_version.lstrip("v") or "{}.{}".format(*version)
    if version >= MINIMUM_KUBERNETES:
        findings.append(Finding(Verdict.OK, f"Kubernetes {shown} {wanted}"))
    else:
        findings.append(Finding(Verdict.FAILED, f"Kubernetes {shown} does not match {wanted}"))
    served = await _served_group_versions(client)
    for api in REQUIRED_APIS:
        if api not in served:
            findings.append(Finding(Verdict.FAILED, f"API {api} is not served by this cluster"))
    return findings


async def check_installation(client: KubeClient, options: InstallOptions) -> list[Finding]:
    """Check that each controller Deployment is Available and each CRD is Established."""
    documents = render(options)
    findings: list[Finding] = []
    for document in documents:
        if document["kind"] == "Deployment":
            findings += await _check_deployment(client, document)
    for document in documents:
        if document["kind"] == "CustomResourceDefinition":
            findings.append(await _check_crd(client, document["metadata"]["name"]))
    return findings


def deployment_problem(deployment: dict[str, Any]) -> str | None:
    """Return why ``deployment`` does not serve yet (not Available, rollout pending), or None."""
    status = deployment.get("status") or {}
    generation = deployment.get("metadata", {}).get("generation", 0)
    if status.get("observedGeneration", 0) < generation:
        return "rollout not observed yet"
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    if updated < wanted or available < wanted:
        return f"{available}/{wanted} replicas available, {updated} updated"
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Available" and condition.get("status") != "True":
            return f"not Available: {condition.get('message') or condition.get('reason')}"
    return None


def deployment_version(deployment: dict[str, Any]) -> str:
    """Return a controller's version: its ``app.kubernetes.io/version`` label, else image tag."""
    labels = deployment.get("metadata", {}).get("labels") or {}
    if labels.get("app.kubernetes.io/version"):
        return str(labels["app.kubernetes.io/version"])
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers"
    ) or [{}]
    image = str(containers[0].get("image", ""))
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else "unknown"


async def _check_deployment(client: KubeClient, document: dict[str, Any]) -> list[Finding]:
    name = document["metadata"]["name"]
    try:
        live = await client.get(
            resources.DEPLOYMENT, name, namespace=document["metadata"]["namespace"]
        )
    except KubeNotFound:
        return [Finding(Verdict.FAILED, f"{name}: deployment not found")]
    problem = deployment_problem(live)
    if problem is not None:
        return [Finding(Verdict.FAILED, f"{name}: deployment not ready: {problem}")]
    containers = live["spec"]["template"]["spec"].get("containers") or [{}]
    return [
        Finding(Verdict.OK, f"{name}: deployment ready"),
        Finding(Verdict.INFO, str(containers[0].get("image", "no image"))),
    ]


async def _check_crd(client: KubeClient, name: str) -> Finding:
    crd = await client.get_or_none(resources.CRD, name)
    if crd is None:
        return Finding(Verdict.FAILED, f"{name}: CRD not found")
    for condition in (crd.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Established" and condition.get("status") == "True":
            versions = [v["name"] for v in crd["spec"]["versions"] if v.get("storage")]
            return Finding(Verdict.OK, f"{name} ({', '.join(versions)})")
    return Finding(Verdict.FAILED, f"{name}: CRD not established")


async def _served_group_versions(client: KubeClient) -> set[str]:
    served = {f"{v}" for v in (await client.get_json("/api")).get("versions", [])}
    for group in (await client.get_json("/apis")).get("groups", []):
        served.update(v["groupVersion"] for v in group.get("versions", []))
    return served

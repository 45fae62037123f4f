"""The optional in-cluster dashboard (``--components-extra dashboard``), read-only.

``tide dashboard`` runs as a Deployment of the same image under a ServiceAccount of its own,
``tide-dashboard``, bound to the built-in ``view`` ClusterRole (what an object page may show:
no Secrets) plus a read-only rule on every Flux API group (so it reads Flux objects even where
``flux-view`` is not aggregated into ``view``). It has no ``patch`` right, so the dashboard's own
``SelfSubjectAccessReview`` check shows no action buttons: the page is read-only by default.
An operator who wants buttons binds more to the ServiceAccount — and then anyone who reaches
the Service acts with those rights.

The Service ``tide-dashboard`` (port 80) is ClusterIP; the namespace's NetworkPolicies admit only
its own pods, so by default it is reached with ``kubectl port-forward``. The dashboard keeps its
``Host`` check on: it answers the Service's names and loopback names only.
"""

from __future__ import annotations

import copy
from typing import Any

from tide.install import _rbac, _workloads
from tide.install._meta import metadata

__all__ = ["DASHBOARD", "DASHBOARD_PORT", "NAME", "dashboard_documents"]

DASHBOARD = "dashboard"
"""The ``--components-extra`` name of the in-cluster dashboard."""
NAME = "tide-dashboard"
"""The ServiceAccount, ClusterRole, binding, Deployment and Service of the dashboard."""
DASHBOARD_PORT = 9080
"""Where the dashboard listens in its pod (``tide dashboard --address``'s default port)."""


def dashboard_documents(
    *,
    namespace: str,
    version: str,
    image: str,
    image_pull_secret: str | None,
    cluster_domain: str,
) -> list[dict[str, Any]]:
    """Return the dashboard's ServiceAccount, RBAC, Service and Deployment, in apply order."""
    cluster_meta = {"namespace": namespace, "version": version, "namespaced": False}
    role = f"{NAME}-{namespace}"
    read_only = _rbac.flux_rules(list(_rbac.READ))  # Events (core) come with ``view``
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(NAME, namespace=namespace, version=version, component=NAME),
        },
        _rbac.cluster_role(role, read_only, cluster_meta),
        _rbac.binding(role, role, [NAME], namespace, cluster_meta),
        _rbac.binding(f"{NAME}-view-{namespace}", "view", [NAME], namespace, cluster_meta),
        _workloads.service(NAME, NAME, "http", namespace, version),
        _deployment(
            namespace=namespace,
            version=version,
            image=image,
            image_pull_secret=image_pull_secret,
            cluster_domain=cluster_domain,
        ),
    ]


def _allowed_hosts(cluster_domain: str) -> list[str]:
    """The names a browser may reach the dashboard by: the Service's, and loopback (a
    ``kubectl port-forward`` on any local port)."""
    service = [NAME, f"{NAME}.$(RUNTIME_NAMESPACE)", f"{NAME}.$(RUNTIME_NAMESPACE).svc"]
    service.append(f"{NAME}.$(RUNTIME_NAMESPACE).svc.{cluster_domain}")
    return ["localhost", "127.0.0.1", *service]


def _deployment(
    *,
    namespace: str,
    version: str,
    image: str,
    image_pull_secret: str | None,
    cluster_domain: str,
) -> dict[str, Any]:
    meta = metadata(NAME, namespace=namespace, version=version, component=NAME)
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, **_workloads.PROBE_TIMING}
    args = ["dashboard", f"--address=0.0.0.0:{DASHBOARD_PORT}"]
    args += [f"--allowed-host={host}" for host in _allowed_hosts(cluster_domain)]
    container = {
        "name": "dashboard",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": _workloads.container_env(),  # /tmp also holds the diff's unpacked artifacts
        "ports": [{"containerPort": DASHBOARD_PORT, "name": "http", "protocol": "TCP"}],
        "livenessProbe": probe,
        "readinessProbe": copy.deepcopy(probe),
        "resources": {
            "requests": {"cpu": "50m", "memory": "96Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "securityContext": copy.deepcopy(_workloads.CONTAINER_SECURITY),
        "volumeMounts": [{"name": "temp", "mountPath": "/tmp"}],
    }
    return _workloads.pod_deployment(
        meta, app=NAME, container=container, volumes=["temp"], image_pull_secret=image_pull_secret
    )

"""Make workloads run on a control plane: controller-manager, scheduler, kwok and one fake node.

kube-controller-manager turns Deployments into ReplicaSets and Pods and creates each namespace's
``default`` ServiceAccount; kube-scheduler binds Pods to the fake node; kwok plays that node's
kubelet, so Pods become Running and Deployments Available without any container runtime.

The node must prove it is alive more often than the controller-manager's node-monitor grace
period, or the controller-manager marks it ``Ready=Unknown``, taints it unreachable and marks
every Pod on it not ready. kwok v0.7.0 keeps no node Lease unless told a lease duration (its
flag defaults to 0), and without one its default node stages refresh the node's status only
about every ten minutes; the node then went Unknown ~55 s after each refresh (50 s grace plus
the 5 s monitor period), about once a minute, and kwok's re-initialisation brought it back.
So kwok is given the kubelet's own lease duration (40 s, renewed every quarter of it, 10 s) and
the grace period is set explicitly beside it, five renewals long.

kwok also plays the kubelet's HTTPS server on 127.0.0.1 (the node's ``kubeletEndpoint``), so the
API server's ``pods/{name}/log`` works: a pod's log is whatever file a kwok ``Logs`` object
(:data:`LOGS_CRD`, served here; :func:`pod_logs` writes one) names for it, in the CRI log format
a kubelet reads. The API server reaches the node by its InternalIP (``127.0.0.1``) and does not
verify kwok's self-signed certificate, as it verifies no kubelet's without a kubelet CA.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.testing._process import ServerProcess, free_port
from tide.testing.binaries import Binaries

__all__ = [
    "FAKE_NODE",
    "LOGS_CRD",
    "NODE_LEASE_SECONDS",
    "NODE_MONITOR_GRACE_SECONDS",
    "Workloads",
    "fake_node",
    "pod_logs",
    "start",
]

FAKE_NODE = "kwok-node-0"
"""Name of the one simulated node."""
NODE_LEASE_SECONDS = 40
"""``leaseDurationSeconds`` of the node's Lease (the kubelet's default); kwok renews it every
quarter of that, 10 s."""
NODE_MONITOR_GRACE_SECONDS = 50
"""How long the controller-manager lets the node go unrenewed before marking it Unknown (its
default in Kubernetes 1.34, passed explicitly so the two numbers sit side by side)."""

LOGS_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "logs.kwok.x-k8s.io"},
    "spec": {
        "group": "kwok.x-k8s.io",
        "names": {"kind": "Logs", "listKind": "LogsList", "plural": "logs", "singular": "logs"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}
"""kwok's ``Logs`` kind (``kwok.x-k8s.io/v1alpha1``), with an open schema: kwok only reads it."""


def pod_logs(name: str, namespace: str, log_file: str) -> dict[str, Any]:
    """Return a kwok ``Logs`` object serving ``log_file`` as the log of every container of a pod.

    The file holds CRI log lines (``<RFC 3339 time> stdout F <line>``), which is what lets the
    API server's ``sinceSeconds`` and ``tailLines`` work on it as on a real node.
    """
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Logs",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"logs": [{"logsFile": log_file, "follow": True}]},
    }


Spawn = Callable[[str, list[str]], ServerProcess]
"""Start a named server and record it with the plane (``ControlPlane._spawn``)."""
Wait = Callable[[ServerProcess, Callable[[], bool], str], None]
"""Poll a probe until true, failing with the process's log if it exits (``ControlPlane._wait``)."""
Kubectl = Callable[..., str]
"""Run kubectl as admin (``ControlPlane.kubectl``)."""


@dataclass(frozen=True)
class Workloads:
    """The workload components of one control plane, each by name."""

    controller_manager: ServerProcess
    scheduler: ServerProcess
    kwok: ServerProcess


def start(
    binaries: Binaries,
    *,
    pki: Path,
    kubeconfig: Path,
    spawn: Spawn,
    wait: Wait,
    kubectl: Kubectl,
) -> Workloads:
    """Start the three components against a ready API server; return once the node is Ready.

    Also waits for the controller-manager to create ServiceAccount ``default/default``: until it
    exists, ServiceAccount admission refuses every Pod.

    Args:
        binaries: where the built programs are.
        pki: the plane's certificate folder (ServiceAccount signing key, serving CA).
        kubeconfig: an admin kubeconfig for all three components.
        spawn: starts one component and records it with the plane.
        wait: polls a readiness probe for one component.
        kubectl: runs kubectl as admin.
    """
    admin = str(kubeconfig)
    # kwok watches its Logs objects from the start, so their kind must be served before it runs.
    kubectl("apply", "-f", "-", input=json.dumps(LOGS_CRD))
    kubectl("wait", "--for=condition=Established", "crd/logs.kwok.x-k8s.io", "--timeout=60s")
    workloads = Workloads(
        controller_manager=spawn(
            "kube-controller-manager", _controller_manager(binaries, pki=pki, kubeconfig=admin)
        ),
        scheduler=spawn("kube-scheduler", _scheduler(binaries, kubeconfig=admin)),
        kwok=spawn("kwok", _kwok(binaries, kubeconfig=admin)),
    )
    kubectl("apply", "-f", "-", input=json.dumps(fake_node(FAKE_NODE)))

    def node_ready() -> bool:
        out = kubectl(
            "get", "node", FAKE_NODE, "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
            check=False,
        )  # fmt: skip
        return out.strip() == "True"

    def default_service_account() -> bool:
        out = kubectl("get", "serviceaccount", "default", "-n", "default", check=False)
        return "default" in out

    wait(workloads.kwok, node_ready, "managing a Ready node")
    wait(workloads.controller_manager, default_service_account, "creating ServiceAccounts")
    return workloads


def fake_node(name: str) -> dict[str, Any]:
    """Return a Node that kwok manages (selected by its ``kwok.x-k8s.io/node`` annotation)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "type": "kwok",
            },
        },
        "spec": {"providerID": f"kwok://{name}"},
        "status": {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "2000"},
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "2000"},
        },
    }


def _controller_manager(binaries: Binaries, *, pki: Path, kubeconfig: str) -> list[str]:
    return [
        str(binaries.kube_controller_manager),
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--secure-port=0",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        "--controllers=*,-bootstrapsigner,-tokencleaner,-persistentvolume-binder",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--concurrent-deployment-syncs=10",
        "--concurrent-replicaset-syncs=10",
        f"--node-monitor-grace-period={NODE_MONITOR_GRACE_SECONDS}s",
    ]


def _scheduler(binaries: Binaries, *, kubeconfig: str) -> list[str]:
    return [
        str(binaries.kube_scheduler),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={free_port()}",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
    ]


def _kwok(binaries: Binaries, *, kubeconfig: str) -> list[str]:
    port = free_port()
    return [
        str(binaries.kwok),
        f"--kubeconfig={kubeconfig}",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--cidr=10.0.128.0/17",
        "--node-ip=127.0.0.1",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
        f"--server-address=127.0.0.1:{port}",
        f"--node-port={port}",
        "--enable-crds=Logs",
    ]

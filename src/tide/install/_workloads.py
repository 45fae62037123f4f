"""The controller Deployments and the Services Flux exposes.

Tide is one program: every component is a Deployment, named as Flux names it, running the same
image with ``tide controller --controllers=<component without -controller>``. The containers
are locked down as Flux's are (non-root, read-only root file system, no capabilities, seccomp
``RuntimeDefault``); what a controller writes goes to emptyDir volumes at ``/data`` and ``/tmp``.
"""

from __future__ import annotations

from typing import Any

from tide.api.kinds import (
    IMAGE_REFLECTOR_CONTROLLER,
    NOTIFICATION_CONTROLLER,
    SOURCE_CONTROLLER,
)
from tide.install._meta import metadata

__all__ = ["HEALTH_PORT", "controller_name", "deployment", "services"]

HEALTH_PORT = 9440
"""Where ``/healthz`` and ``/readyz`` listen (``tide controller --health-addr``)."""
METRICS_PORT = 8080
STORAGE_PORT = 9090
EVENTS_PORT = 9091  # Tide's default: Flux's :9090 is the artifact server's in the same process
RECEIVER_PORT = 9292
_WITH_STORAGE = (SOURCE_CONTROLLER, IMAGE_REFLECTOR_CONTROLLER)
_PORTS: dict[str, list[dict[str, Any]]] = {
    SOURCE_CONTROLLER: [{"containerPort": STORAGE_PORT, "name": "http", "protocol": "TCP"}],
    NOTIFICATION_CONTROLLER: [
        {"containerPort": EVENTS_PORT, "name": "http", "protocol": "TCP"},
        {"containerPort": RECEIVER_PORT, "name": "http-webhook", "protocol": "TCP"},
    ],
}


def controller_name(component: str) -> str:
    """Return the ``--controllers`` name of a component (``source-controller`` → ``source``)."""
    return component.removesuffix("-controller")


def deployment(
    component: str,
    *,
    namespace: str,
    version: str,
    image: str,
    image_pull_secret: str | None,
    cluster_domain: str,
    watch_all_namespaces: bool = True,
    feature_gates: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Return the Deployment of one component."""
    meta = metadata(component, namespace=namespace, version=version, component=component)
    meta["labels"]["control-plane"] = "controller"
    pod: dict[str, Any] = {
        "serviceAccountName": component,
        "terminationGracePeriodSeconds": 10,
        "securityContext": {"fsGroup": 1337},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [
            _container(
                component,
                image=image,
                args=_args(
                    component,
                    cluster_domain=cluster_domain,
                    watch_all_namespaces=watch_all_namespaces,
                    feature_gates=feature_gates,
                ),
            )
        ],
        "volumes": [
            {"name": "data", "emptyDir": {}},
            {"name": "temp", "emptyDir": {}},
        ],
    }
    if image_pull_secret:
        pod["imagePullSecrets"] = [{"name": image_pull_secret}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": component}},
            "template": {
                "metadata": {
                    "labels": {"app": component},
                    "annotations": {
                        "prometheus.io/port": str(METRICS_PORT),
                        "prometheus.io/scrape": "true",
                    },
                },
                "spec": pod,
            },
        },
    }


def _container(component: str, *, image: str, args: list[str]) -> dict[str, Any]:
    probe = {"initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 5}
    return {
        "name": "manager",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": [
            {
                "name": "RUNTIME_NAMESPACE",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
            },
            # Git, Helm and the Python runtime keep caches under $HOME: the root fs is read-only.
            {"name": "HOME", "value": "/tmp"},
        ],
        "ports": [
            *_PORTS.get(component, []),
            {"containerPort": METRICS_PORT, "name": "http-prom", "protocol": "TCP"},
            {"containerPort": HEALTH_PORT, "name": "healthz", "protocol": "TCP"},
        ],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}, **probe},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}, **probe},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1000m", "memory": "1Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "data", "mountPath": "/data"},
            {"name": "temp", "mountPath": "/tmp"},
        ],
    }


def _args(
    component: str,
    *,
    cluster_domain: str,
    watch_all_namespaces: bool,
    feature_gates: frozenset[str] = frozenset(),
) -> list[str]:
    args = [
        f"--controllers={controller_name(component)}",
        "--enable-leader-election",
        f"--watch-all-namespaces={str(watch_all_namespaces).lower()}",
        "--leader-election-namespace=$(RUNTIME_NAMESPACE)",
        f"--health-addr=:{HEALTH_PORT}",
        f"--metrics-addr=:{METRICS_PORT}",
        "--log-level=info",
    ]
    if component in _WITH_STORAGE:
        args.append("--storage-path=/data")
    if component == SOURCE_CONTROLLER:
        args += [
            f"--storage-addr=:{STORAGE_PORT}",
            f"--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.{cluster_domain}.",
        ]
    if component == NOTIFICATION_CONTROLLER:
        args += [f"--events-addr=:{EVENTS_PORT}", f"--receiver-addr=:{RECEIVER_PORT}"]
    if feature_gates:
        args.append("--feature-gates=" + ",".join(f"{gate}=true" for gate in sorted(feature_gates)))
    return args


def services(components: list[str], *, namespace: str, version: str) -> list[dict[str, Any]]:
    """Return the Services Flux exposes: artifact storage, events and the webhook receiver."""
    found = []
    if SOURCE_CONTROLLER in components:
        found.append(_service(SOURCE_CONTROLLER, SOURCE_CONTROLLER, "http", namespace, version))
    if NOTIFICATION_CONTROLLER in components:
        found.append(
            _service(NOTIFICATION_CONTROLLER, NOTIFICATION_CONTROLLER, "http", namespace, version)
        )
        found.append(
            _service(
                "webhook-receiver", NOTIFICATION_CONTROLLER, "http-webhook", namespace, version
            )
        )
    return found


def _service(name: str, component: str, port: str, namespace: str, version: str) -> dict[str, Any]:
    meta = metadata(name, namespace=namespace, version=version, component=component)
    meta["labels"]["control-plane"] = "controller"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": component},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": port}],
        },
    }

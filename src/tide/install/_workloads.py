"""The controller Deployments and the Services Flux exposes.

Tide is one program: every component is a Deployment, named as Flux names it, running the same
image with ``tide controller --controllers=<component without -controller>``. The containers
are locked down as Flux's are (non-root, read-only root file system, no capabilities, seccomp
``RuntimeDefault``); what a controller writes goes to emptyDir volumes at ``/data`` and ``/tmp``.
The components other than notification-controller send their events to its Service.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from tide.api.kinds import (
    IMAGE_REFLECTOR_CONTROLLER,
    NOTIFICATION_CONTROLLER,
    SOURCE_CONTROLLER,
)
from tide.install._meta import metadata

if TYPE_CHECKING:  # manifests.py builds on this module
    from tide.install.manifests import InstallOptions

__all__ = [
    "CONTAINER_SECURITY",
    "HEALTH_PORT",
    "POD_SECURITY",
    "PROBE_TIMING",
    "container_env",
    "controller_name",
    "deployment",
    "pod_deployment",
    "service",
    "services",
]

HEALTH_PORT = 9440
"""Where ``/healthz`` and ``/readyz`` listen (``tide controller --health-addr``)."""
METRICS_PORT = 8080
STORAGE_PORT = 9090
EVENTS_PORT = 9091  # Tide's default: Flux's :9090 is the artifact server's in the same process
RECEIVER_PORT = 9292
CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""Every Tide container's ``securityContext`` (Flux's: non-root, read-only, no capabilities)."""
PROBE_TIMING = {"initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 5}
"""When and how often the kubelet probes a Tide container."""
POD_SECURITY: dict[str, Any] = {"fsGroup": 1337}
"""Every Tide pod's ``securityContext``: its emptyDir volumes writable by the container."""
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
    component: str, options: InstallOptions, *, notifications: bool = False
) -> dict[str, Any]:
    """Return the Deployment of one component, as ``options`` install it.

    With ``notifications`` (notification-controller is installed too), every other component
    POSTs its events to the ``notification-controller`` Service, as Flux's controllers do.
    """
    meta = metadata(
        component, namespace=options.namespace, version=options.version, component=component
    )
    meta["labels"]["control-plane"] = "controller"
    container = _container(
        component,
        image=options.image,
        args=_args(
            component,
            cluster_domain=options.cluster_domain,
            watch_all_namespaces=options.watch_all_namespaces,
            notifications=notifications,
            feature_gates=options.feature_gates,
        ),
    )
    return pod_deployment(
        meta,
        app=component,
        container=container,
        volumes=["data", "temp"],
        image_pull_secret=options.image_pull_secret,
        annotations={"prometheus.io/port": str(METRICS_PORT), "prometheus.io/scrape": "true"},
    )


def pod_deployment(
    meta: dict[str, Any],
    *,
    app: str,
    container: dict[str, Any],
    volumes: list[str],
    image_pull_secret: str | None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Return a one-replica Deployment of ``container`` as ServiceAccount ``app``, its pods
    labelled ``app: <app>``, with an emptyDir per name in ``volumes``."""
    pod: dict[str, Any] = {
        "serviceAccountName": app,
        "terminationGracePeriodSeconds": 10,
        "securityContext": dict(POD_SECURITY),
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [container],
        "volumes": [{"name": name, "emptyDir": {}} for name in volumes],
    }
    if image_pull_secret:
        pod["imagePullSecrets"] = [{"name": image_pull_secret}]
    template: dict[str, Any] = {"labels": {"app": app}}
    if annotations:
        template["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": template, "spec": pod},
        },
    }


def container_env() -> list[dict[str, Any]]:
    """Return the environment of every Tide container: its namespace, and ``HOME`` on /tmp."""
    return [
        {
            "name": "RUNTIME_NAMESPACE",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        # Git, Helm and the Python runtime keep caches under $HOME: the root fs is read-only.
        {"name": "HOME", "value": "/tmp"},
    ]


def _container(component: str, *, image: str, args: list[str]) -> dict[str, Any]:

    return {
        "name": "manager",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": container_env(),
        "ports": [
            *_PORTS.get(component, []),
            {"containerPort": METRICS_PORT, "name": "http-prom", "protocol": "TCP"},
            {"containerPort": HEALTH_PORT, "name": "healthz", "protocol": "TCP"},
        ],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}, **PROBE_TIMING},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}, **PROBE_TIMING},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1000m", "memory": "1Gi"},
        },
        "securityContext": copy.deepcopy(CONTAINER_SECURITY),
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
    notifications: bool = False,
    feature_gates: frozenset[str] = frozenset(),
) -> list[str]:
    args = [
        # The image's entrypoint is ``tide``; ``args`` replace its default ``controller``.
        "controller",
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
    elif notifications:  # the Service's port 80 leads to the events port
        args.append(
            f"--events-addr=http://{NOTIFICATION_CONTROLLER}.$(RUNTIME_NAMESPACE)"
            f".svc.{cluster_domain}./"
        )
    if feature_gates:
        args.append("--feature-gates=" + ",".join(f"{gate}=true" for gate in sorted(feature_gates)))
    return args


def services(components: list[str], *, namespace: str, version: str) -> list[dict[str, Any]]:
    """Return the Services Flux exposes: artifact storage, events and the webhook receiver."""
    found = []
    if SOURCE_CONTROLLER in components:
        found.append(service(SOURCE_CONTROLLER, SOURCE_CONTROLLER, "http", namespace, version))
    if NOTIFICATION_CONTROLLER in components:
        found.append(
            service(NOTIFICATION_CONTROLLER, NOTIFICATION_CONTROLLER, "http", namespace, version)
        )
        found.append(
            service("webhook-receiver", NOTIFICATION_CONTROLLER, "http-webhook", namespace, version)
        )
    return found


def service(name: str, component: str, port: str, namespace: str, version: str) -> dict[str, Any]:
    """Return a ClusterIP Service ``name`` on port 80, sending to ``component``'s ``port``."""
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

"""N apps of flux-benchmark's shape: an OCIRepository each, applied as a tenant to its namespace.

Run: ``.venv/bin/python bench/oci_apps.py [--objects 100] [--runs 3] [--concurrent 4]``.

fluxcd/flux-benchmark's Kustomization benchmark gives every app its own OCIRepository
(``insecure: true``, ``interval: 60m``) and its own Kustomization (``prune``, ``wait``,
``serviceAccountName`` and ``targetNamespace``), whose artifact holds a Deployment with 0
replicas, a ServiceAccount, a Service and an Ingress. Here each app also has its own package:
``apps/app-NNNN:latest`` in a real registry (``tide.testing.Registry``), the four objects'
names already filled in, so no two Kustomizations share a build. Each Kustomization applies to
namespace ``<run namespace>-app-NNNN`` impersonating ServiceAccount ``tenant`` of the run's
namespace, which a RoleBinding in the app's namespace lets write those four kinds and no more
(the API server checks every request against it). Namespaces, RoleBindings and the packages
are set up before the clock starts; the OCIRepository and Kustomization of each app are created
together, as a fleet's commit would add them.

Figures per run (see ``bench/_common.py``): ``ready_seconds`` from the first create to all N
Kustomizations Ready; ``cpu_seconds`` and ``tree_peak_rss_mib`` of the ``tide controller``
process with its children (kustomize), ``peak_rss_mib`` of the process alone; ``api_requests``
and ``api_writes``; then a restarted controller's ``restart_*`` (nothing changed: target zero
writes). ``bench/ssa_floor.py`` applies the same objects with nothing in between.
"""

from __future__ import annotations

import asyncio

from _common import (  # bench/ is on sys.path when a script runs
    Fleet,
    fleet_parser,
    gather_limited,
    install,
    kustomization_fleet,
    run_and_print,
)
from kustomizations import app_files

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.source.ocirepository import OCI_REPOSITORY
from tide.testing import ControlPlane, Registry

CLUSTER_ROLE = ResourceType(
    "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False
)
ROLE_BINDING = ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
TENANT = "tenant"
"""The ServiceAccount every Kustomization impersonates, in the run's namespace."""

APP_ADMIN = {
    "metadata": {"name": "bench-app-admin"},
    "rules": [
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
        {"apiGroups": [""], "resources": ["serviceaccounts", "services"], "verbs": ["*"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["*"]},
    ],
}
"""What the tenant may do in an app's namespace: the four kinds of the app, nothing else."""


def app_name(index: int) -> str:
    return f"app-{index:04d}"


def app_namespace(namespace: str, index: int) -> str:
    """The namespace app ``index`` of the run in ``namespace`` is applied to."""
    return f"{namespace}-{app_name(index)}"


async def tenant_namespaces(admin: KubeClient, namespace: str, count: int) -> list[str]:
    """Create the tenant ServiceAccount and each app's namespace with its RoleBinding."""
    await admin.create(resources.SERVICE_ACCOUNT, {
        "metadata": {"name": TENANT, "namespace": namespace},
    })  # fmt: skip
    names = [app_namespace(namespace, index) for index in range(count)]

    async def one(name: str) -> None:
        await admin.create(resources.NAMESPACE, {"metadata": {"name": name}})
        await admin.create(ROLE_BINDING, {
            "metadata": {"name": TENANT, "namespace": name},
            "roleRef": {"apiGroup": CLUSTER_ROLE.group, "kind": "ClusterRole",
                        "name": APP_ADMIN["metadata"]["name"]},
            "subjects": [{"kind": "ServiceAccount", "name": TENANT, "namespace": namespace}],
        })  # fmt: skip

    await gather_limited(one(name) for name in names)
    return names


def fleet(registry: Registry) -> Fleet:
    """N OCIRepository + Kustomization pairs, one package and one namespace per app."""

    def repository(index: int, namespace: str) -> tuple[ResourceType, dict]:
        return OCI_REPOSITORY, {
            "metadata": {"name": app_name(index), "namespace": namespace},
            "spec": {"interval": "60m", "insecure": True, "ref": {"tag": "latest"},
                     "url": f"oci://{registry.host}/apps/{app_name(index)}"},
        }  # fmt: skip

    def spec(index: int, namespace: str) -> dict:
        return {
            "interval": "60m", "retryInterval": "2m", "timeout": "5m", "path": "./",
            "prune": True, "wait": True, "serviceAccountName": TENANT,
            "targetNamespace": app_namespace(namespace, index),
            "sourceRef": {"kind": "OCIRepository", "name": app_name(index)},
        }  # fmt: skip

    return kustomization_fleet(spec, source=None, companion=repository, prepare=tenant_namespaces)


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    args = fleet_parser(__doc__).parse_args()
    with ControlPlane(workloads=True) as plane, Registry() as registry:
        await install(plane, (CLUSTER_ROLE, APP_ADMIN))
        for index in range(args.objects):
            registry.push_artifact(f"apps/{app_name(index)}", "latest", app_files(app_name(index)))
        print(f"{args.objects} apps (own OCIRepository, 4 objects, wait, impersonation):")
        await run_and_print(
            plane,
            fleet(registry),
            prefix="bench-oci",
            count=args.objects,
            runs=args.runs,
            concurrent=args.concurrent,
        )


if __name__ == "__main__":
    asyncio.run(main())

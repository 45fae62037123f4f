"""The floor under ``oci_apps.py``: its objects server-side applied with nothing in between.

Run: ``.venv/bin/python bench/ssa_floor.py [--objects 100] [--runs 3] [--concurrent 20]``.

What no controller can beat on this API server: the 4N objects of ``bench/oci_apps.py`` (a
Deployment with 0 replicas, a ServiceAccount, a Service and an Ingress per app, each app in its
own namespace) sent as server-side apply requests (``PATCH`` with
``application/apply-patch+yaml``, ``force=true``), ``--concurrent`` in flight on one HTTP/1.1
connection pool, straight from pre-rendered JSON: no build, no dry run, no diff, no status. The
namespaces are created before the clock starts, as ``oci_apps.py`` does.

Figures per run:

- ``applied_seconds``: from the first apply until the API server answered all 4N.
- ``current_seconds``: until every Deployment is also Available for its generation (what
  ``wait: true`` waits for; the controller-manager sets it).
- ``requests``: the applies sent (4N, none failed).
- ``client_cpu_seconds``: this process's CPU while applying; ``apiserver_cpu_seconds`` and
  ``etcd_cpu_seconds``: the servers' during the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import time
from typing import Any

import httpx
import yaml
from _common import gather_limited  # bench/ is on sys.path when a script runs
from _figures import print_medians, print_run
from _tree import servers_cpu
from kustomizations import app_files
from oci_apps import app_name

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.testing import ControlPlane

DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")
PLURALS = {"Deployment": "deployments", "ServiceAccount": "serviceaccounts",
           "Service": "services", "Ingress": "ingresses"}  # fmt: skip


def requests_for(namespace: str, index: int) -> list[tuple[str, bytes]]:
    """Return (path, JSON body) of the four applies of app ``index`` into ``namespace``."""
    found = []
    for text in app_files(app_name(index)).values():
        obj: dict[str, Any] = yaml.safe_load(text)
        obj["metadata"]["namespace"] = namespace
        api = obj["apiVersion"]
        base = f"/api/{api}" if "/" not in api else f"/apis/{api}"
        path = f"{base}/namespaces/{namespace}/{PLURALS[obj['kind']]}/{obj['metadata']['name']}"
        found.append((path, json.dumps(obj).encode()))
    return found


def available(obj: dict[str, Any]) -> bool:
    """Whether Deployment ``obj`` is Available for its current generation (kstatus Current)."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"]["generation"]:
        return False
    conditions = status.get("conditions") or ()
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)


async def all_current(admin: KubeClient, namespaces: set[str], version: str) -> None:
    """Return once a Deployment in each of ``namespaces`` is Available for its generation."""
    done: set[str] = set()
    while len(done) < len(namespaces):
        async for _, obj in admin.watch(DEPLOYMENT, resource_version=version):
            version = obj["metadata"]["resourceVersion"]
            if obj["metadata"]["namespace"] in namespaces and available(obj):
                done.add(obj["metadata"]["namespace"])
            if len(done) == len(namespaces):
                return


async def one_run(
    plane: ControlPlane, *, namespace: str, count: int, concurrent: int
) -> dict[str, float]:
    """Apply 4 per app of ``count`` objects into ``count`` fresh namespaces and time it."""
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    names = [f"{namespace}-{app_name(index)}" for index in range(count)]
    await gather_limited(
        admin.create(resources.NAMESPACE, {"metadata": {"name": name}}) for name in names
    )
    applies = [request for i, name in enumerate(names) for request in requests_for(name, i)]
    _, version = await admin.list(DEPLOYMENT)
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    pki = plane.root / "pki"
    context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
    limits = httpx.Limits(max_connections=concurrent, max_keepalive_connections=concurrent)
    servers = servers_cpu()
    cpu = {name: read() for name, read in servers.items()}
    async with httpx.AsyncClient(
        base_url=plane.server, verify=context, limits=limits, timeout=60
    ) as http:
        watching = asyncio.ensure_future(all_current(admin, set(names), version))
        params = {"fieldManager": "bench-floor", "force": "true"}
        headers = {"Content-Type": "application/apply-patch+yaml"}

        async def apply(path: str, body: bytes) -> None:
            answer = await http.patch(path, content=body, params=params, headers=headers)
            answer.raise_for_status()

        client_cpu = time.process_time()
        started = time.monotonic()
        await gather_limited((apply(path, body) for path, body in applies), limit=concurrent)
        figures = {"applied_seconds": time.monotonic() - started}
        figures["client_cpu_seconds"] = time.process_time() - client_cpu
        await asyncio.wait_for(watching, timeout=600)
        figures["current_seconds"] = time.monotonic() - started
    figures["requests"] = len(applies)
    figures.update({name: read() - cpu[name] for name, read in servers.items()})
    await gather_limited(admin.delete(resources.NAMESPACE, name) for name in names)
    while {obj["metadata"]["name"] for obj in (await admin.list(resources.NAMESPACE))[0]} & set(
        names
    ):
        await asyncio.sleep(2)
    await admin.close()
    return figures


async def main() -> None:
    """Run the floor and print one line per run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=100, help="apps (4 objects each)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=20, help="applies in flight")
    args = parser.parse_args()
    with ControlPlane(workloads=True) as plane:
        results = []
        for run in range(args.runs):
            figures = await one_run(
                plane, namespace=f"floor-{run}", count=args.objects, concurrent=args.concurrent
            )
            results.append(figures)
            print_run(run, figures)
        print_medians(f"{args.objects} apps, {args.concurrent} in flight, median:", results)


if __name__ == "__main__":
    asyncio.run(main())

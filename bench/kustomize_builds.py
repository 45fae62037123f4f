"""CPU seconds per kustomize build: ``kubectl kustomize`` per build against the build server.

Run: ``.venv/bin/python bench/kustomize_builds.py [--builds 200] [--runs 5] [--concurrent 4]
[--modes kubectl,server]``.

Two shapes, each built ``--builds`` times by :func:`tide.kustomize.build.build_async`, the
controller's build step (no manifest cache in front, so every call really builds):

- ``overlay``: a typical app overlay — a base of Deployment, Service, ServiceAccount, ConfigMap
  and HorizontalPodAutoscaler, and a production overlay with a strategic-merge patch, a JSON
  patch, an image override, a ``configMapGenerator`` and a name prefix; the Kustomization adds
  ``targetNamespace`` (so Tide's spec overlay wraps it).
- ``flux-benchmark``: the folder of ``bench/kustomizations.py`` (Flux's benchmark shape:
  Deployment, ServiceAccount, Service, Ingress), plain manifests with no kustomization (Tide
  generates one), ``targetNamespace`` set.

Each measurement is a fresh worker process (``--worker``) that builds N times, ``--concurrent``
at a time, and exits (closing the build server, whose CPU the parent then reaps). The parent
reads the CPU time of the whole finished process tree (``RUSAGE_CHILDREN``: the worker, every
``kubectl``, the server) around it. One build costs ``(T(N + 1) - T(1)) / N``: the worker's
start (Python imports, the server's start) cancels out. ``kubectl`` is the fallback path
(``TIDE_KUSTOMIZE_BUILD=kubectl``), which is what every build ran before the server, each on a
private copy of the tree (the controller unpacked the artifact per build; the copy stands in
for that unpack); ``server`` builds every time on one shared tree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kustomizations import APP  # bench/ is on sys.path when a script runs

from tide.kustomize import server as kustomize_server
from tide.kustomize import server_binary
from tide.kustomize.build import BuildOptions, build_async

BASE = {
    "base/kustomization.yaml": """\
resources: [deployment.yaml, service.yaml, serviceaccount.yaml, configmap.yaml, hpa.yaml]
labels:
  - pairs: {app.kubernetes.io/name: shop}
    includeSelectors: true
""",
    "base/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      serviceAccountName: shop
      containers:
        - name: shop
          image: ghcr.io/example/shop:1.0.0
          ports: [{containerPort: 8080}]
          envFrom: [{configMapRef: {name: shop-env}}]
          resources: {requests: {cpu: 100m, memory: 64Mi}}
""",
    "base/service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 8080}]
""",
    "base/serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: shop}\n",
    "base/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-settings}
data: {LOG_LEVEL: info, FEATURES: "a,b,c"}
""",
    "base/hpa.yaml": """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: shop}
  minReplicas: 1
  maxReplicas: 5
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
""",
    "production/kustomization.yaml": """\
resources: [../base]
namePrefix: prod-
images:
  - {name: ghcr.io/example/shop, newTag: 1.4.2}
configMapGenerator:
  - name: shop-env
    literals: [ENVIRONMENT=production, REGION=eu-west-1]
patches:
  - path: replicas.yaml
  - target: {kind: HorizontalPodAutoscaler, name: shop}
    patch: |
      - {op: replace, path: /spec/maxReplicas, value: 20}
""",
    "production/replicas.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 3
""",
}
SHAPES = {
    "overlay": (BASE, BuildOptions(path="production", target_namespace="shop")),
    "flux-benchmark": (APP, BuildOptions(path="app", target_namespace="apps")),
}
MODES = ("kubectl", "server")


async def _builds(shape: str, count: int, concurrent: int) -> None:
    files, options = SHAPES[shape]
    with tempfile.TemporaryDirectory(prefix="bench-kustomize-") as scratch:
        root = Path(scratch)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        server = kustomize_server.shared()
        limit = asyncio.Semaphore(concurrent)

        async def one(number: int) -> None:
            async with limit:
                tree = root
                if server is None:  # kubectl writes into the tree: a private copy, as before
                    tree = root.with_name(f"{root.name}-{number}")
                    await asyncio.to_thread(shutil.copytree, root, tree)
                objects = await build_async(tree, options, server=server)
                assert objects, "the build produced nothing"
                if tree != root:
                    await asyncio.to_thread(shutil.rmtree, tree)

        await asyncio.gather(*(one(number) for number in range(count)))
        if server is not None:
            await server.close()


def _measure(mode: str, shape: str, count: int, concurrent: int) -> tuple[float, float]:
    """Run a worker building ``count`` times; return its tree's CPU seconds and wall seconds."""
    env = dict(os.environ)
    if mode == "kubectl":
        env[server_binary.ENV] = "kubectl"
    else:
        env[server_binary.ENV] = str(server_binary.ensure_server())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    command = [sys.executable, __file__, "--worker", shape, str(count), str(concurrent)]
    subprocess.run(command, env=env, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    """Print CPU and wall seconds per build for each shape and mode, over the runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--modes", default=",".join(MODES), help="kubectl,server or one of them")
    parser.add_argument("--worker", nargs=3, metavar=("SHAPE", "COUNT", "CONCURRENT"))
    args = parser.parse_args()
    if args.worker:
        shape, count, concurrent = args.worker
        asyncio.run(_builds(shape, int(count), int(concurrent)))
        return
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for shape in SHAPES:
        for mode in args.modes.split(","):
            cpu_per_build, walls = [], []
            for _ in range(args.runs):
                base_cpu, _ = _measure(mode, shape, 1, args.concurrent)
                cpu, wall = _measure(mode, shape, args.builds + 1, args.concurrent)
                cpu_per_build.append((cpu - base_cpu) / args.builds)
                walls.append(wall)
            runs = ", ".join(f"{value * 1000:.1f}" for value in cpu_per_build)
            print(
                f"{shape:15} {mode:8} CPU per build: median "
                f"{statistics.median(cpu_per_build) * 1000:.1f} ms ({runs}); "
                f"{args.builds + 1} builds ({args.concurrent} at a time) took a median "
                f"{statistics.median(walls):.1f} s, the worker's start included",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

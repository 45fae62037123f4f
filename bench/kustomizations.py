"""N Kustomizations, each a Deployment (0 replicas), ServiceAccount, Service and Ingress.

Run: ``.venv/bin/python bench/kustomizations.py [--objects 100] [--runs 3] [--concurrent 20]``.

The shape of Flux's published benchmark (fluxcd/flux-benchmark): every Kustomization applies
four objects and waits for them (``wait: true``), on a control plane with a controller-manager
and a scheduler so Deployments really become Available. Here the N Kustomizations share one
GitRepository and one folder, told apart by ``postBuild.substitute`` (``${app}``), the way a
fleet templates many apps. The controllers (source + kustomize) run as a ``tide controller``
process, so its memory and API traffic are its own.

Per run, in a fresh namespace and a fresh controller process:

- ``ready_seconds``: from the first Kustomization created until all N are Ready.
- ``peak_rss_mib``: the controller process's peak resident memory (``VmHWM``).
- ``api_requests`` / ``api_writes``: replies the controller got from the API server
  (``rest_client_requests_total``), all and real writes only (POST, PUT, PATCH, DELETE less
  the dry runs, ``tide_api_dry_run_requests_total``).
- ``restart_writes``: a second controller process started on the same N (every Kustomization
  reconciled again, nothing changed) — the writes it made (target: zero).
"""

from __future__ import annotations

import asyncio

from _common import (  # bench/ is on sys.path when a script runs
    Fleet,
    fleet_parser,
    install,
    kustomization_fleet,
    run_and_print,
)

from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

APP = {
    "app/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: "${app}"}
spec:
  replicas: 0
  selector: {matchLabels: {app: "${app}"}}
  template:
    metadata: {labels: {app: "${app}"}}
    spec:
      serviceAccountName: "${app}"
      containers: [{name: app, image: "ghcr.io/stefanprodan/podinfo:6.7.0"}]
""",
    "app/serviceaccount.yaml": 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: "${app}"}\n',
    "app/service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: "${app}"}
spec:
  selector: {app: "${app}"}
  ports: [{port: 80, targetPort: 9898}]
""",
    "app/ingress.yaml": """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: "${app}"}
spec:
  rules:
    - host: "${app}.example.com"
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: "${app}", port: {number: 80}}}
""",
}


def app_files(name: str, *, folder: str = "") -> dict[str, str]:
    """Return the four files of app ``name`` with ``${app}`` filled in, under ``folder``."""
    return {
        f"{folder}{path.removeprefix('app/')}": text.replace("${app}", name)
        for path, text in APP.items()
    }


def fleet(git: GitServer) -> Fleet:
    """N Kustomizations of one GitRepository folder, told apart by ``${app}``."""
    repository = {
        "metadata": {"name": "fleet"},
        "spec": {"interval": "1h", "url": git.http_url("fleet"), "ref": {"branch": "main"}},
    }

    def spec(index: int, namespace: str) -> dict:
        return {
            "interval": "1h", "timeout": "5m", "path": "./app", "prune": True,
            "wait": True, "targetNamespace": namespace,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "postBuild": {"substitute": {"app": f"app-{index:04d}"}},
        }  # fmt: skip

    return kustomization_fleet(spec, source=(GIT_REPOSITORY, repository))


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    args = fleet_parser(__doc__, concurrent=20).parse_args()
    with ControlPlane(workloads=True) as plane, GitServer() as git:
        await install(plane)
        git.create_repo("fleet", APP)
        print(f"{args.objects} Kustomizations (4 objects each, wait: true):")
        await run_and_print(
            plane,
            fleet(git),
            prefix="bench-ks",
            count=args.objects,
            runs=args.runs,
            concurrent=args.concurrent,
        )


if __name__ == "__main__":
    asyncio.run(main())

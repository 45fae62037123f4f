"""Serve one Git repository of manifests on loopback for ``make demo``, until SIGTERM.

Prints the repository's clone URL on the first line of standard output, then waits.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from tide.testing import GitServer

MANIFESTS = {
    # The layout Flux's bootstrap and example repositories use: one folder per cluster holding
    # Kustomizations, apps as a base plus an overlay per environment.
    "clusters/production/apps.yaml": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 2m
  path: ./apps/production
  prune: true
  wait: true
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
    "apps/base/my-app/namespace.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: my-app
""",
    "apps/base/my-app/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
  namespace: my-app
spec:
  replicas: 1
  selector:
    matchLabels: {app: my-app}
  template:
    metadata:
      labels: {app: my-app}
    spec:
      containers:
        - name: my-app
          image: ghcr.io/stefanprodan/podinfo:6.7.0
          ports: [{containerPort: 9898}]
""",
    "apps/base/my-app/service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: my-app
  namespace: my-app
spec:
  selector: {app: my-app}
  ports: [{port: 80, targetPort: 9898}]
""",
    "apps/base/my-app/kustomization.yaml": (
        "resources:\n  - namespace.yaml\n  - deployment.yaml\n  - service.yaml\n"
    ),
    "apps/production/kustomization.yaml": """\
resources:
  - ../base/my-app
patches:
  - path: replicas.yaml
""",
    "apps/production/replicas.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
  namespace: my-app
spec:
  replicas: 3
""",
    "README.md": "# fleet\n\nManifests for the demo cluster.\n",
    ".github/workflows/ci.yaml": "on: push\n",
}


def main() -> int:
    """Start the server, print the URL, serve until SIGTERM or SIGINT."""
    server = GitServer()
    server.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.create_repo("fleet", MANIFESTS, message="Add my-app for production")
        print(server.http_url("fleet"), flush=True)
        while True:
            signal.pause()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

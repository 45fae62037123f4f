"""Serve the demo's Git repository and a Helm chart repository on loopback, until SIGTERM.

Prints the Git repository's clone URL on the first line of standard output, then waits. The
chart repository stands in for the public ingress-nginx one the seed layout names: it serves an
``ingress-nginx`` chart 4.8.3 whose controller Deployment rolls out on the simulated nodes.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from tide.testing import ChartRepository, GitServer

CONTROLLER_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-controller
spec:
  replicas: {{ .Values.controller.replicaCount }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v{{ .Chart.AppVersion }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-controller
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{name: http, port: 80}]
"""
INFRASTRUCTURE = {
    "clusters/production/infrastructure.yaml": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infrastructure
  namespace: flux-system
spec:
  interval: 10m
  timeout: 2m
  path: ./infrastructure/base
  prune: true
  wait: true
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
    "infrastructure/base/kustomization.yaml": "resources:\n  - ingress-nginx\n",
    "infrastructure/base/ingress-nginx/kustomization.yaml": (
        "resources:\n  - namespace.yaml\n  - repository.yaml\n  - release.yaml\n"
    ),
    "infrastructure/base/ingress-nginx/namespace.yaml": (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ingress-nginx\n"
    ),
    "infrastructure/base/ingress-nginx/repository.yaml": """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: ingress-nginx
  namespace: flux-system
spec:
  interval: 24h
  url: ${CHARTS_URL}
""",
    "infrastructure/base/ingress-nginx/release.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ingress-nginx
  namespace: ingress-nginx
spec:
  interval: 30m
  chart:
    spec:
      chart: ingress-nginx
      version: "4.8.x"
      sourceRef:
        kind: HelmRepository
        name: ingress-nginx
        namespace: flux-system
  values:
    controller:
      replicaCount: 2
""",
}

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
    charts = ChartRepository()
    charts.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        charts.add_chart(
            "ingress-nginx",
            "4.8.3",
            app_version="1.9.4",
            values={"controller": {"replicaCount": 1}},
            templates={"controller.yaml": CONTROLLER_TEMPLATE},
        )
        infrastructure = {
            path: text.replace("${CHARTS_URL}", charts.url) for path, text in INFRASTRUCTURE.items()
        }
        server.create_repo(
            "fleet", {**MANIFESTS, **infrastructure}, message="Add my-app and ingress-nginx"
        )
        print(server.http_url("fleet"), flush=True)
        while True:
            signal.pause()
    finally:
        charts.stop()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

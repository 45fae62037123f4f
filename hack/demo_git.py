"""Serve the demo's Git repository, a Helm chart repository, an OCI registry and a webhook.

Prints three lines on standard output, then waits until SIGTERM: the Git repository's clone URL,
the registry's ``host:port``, and the URL of a webhook that stands in for Slack (every body
posted to it is appended, one JSON document per line, to the file named by the first argument).
The chart repository stands in for the public ingress-nginx one the seed layout names: it serves
an ``ingress-nginx`` chart 4.8.3 whose controller Deployment rolls out on the simulated nodes.
The registry holds ``my-app:1.0.0``; SIGUSR1 tags the same image ``1.0.1``, as a CI pipeline
pushing a release would.
"""

from __future__ import annotations

import http.server
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tide.testing import ChartRepository, GitServer, Registry

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
          image: ${REGISTRY}/my-app:1.0.0 # {"$imagepolicy": "flux-system:my-app"}
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
    # The seed's image automation: scan the registry, pick the newest 1.x tag, commit it to main.
    "clusters/production/image-automation.yaml": """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: my-app
  namespace: flux-system
spec:
  image: ${REGISTRY}/my-app
  interval: 1m
  insecure: true
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: my-app
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: my-app
  policy:
    semver:
      range: "1.x"
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        name: fluxcdbot
        email: fluxcdbot@users.noreply.github.com
      messageTemplate: "chore: update my-app to {{range .Changed.Changes}}{{.NewValue}}{{end}}"
    push:
      branch: main
  update:
    path: ./apps
    strategy: Setters
""",
    # The seed's notifications: every Kustomization and HelmRelease event to Slack.
    "clusters/production/notifications.yaml": """\
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: slack
  namespace: flux-system
spec:
  type: slack
  channel: deployments
  secretRef:
    name: slack-webhook
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: on-call
  namespace: flux-system
spec:
  providerRef:
    name: slack
  eventSeverity: info
  eventSources:
    - kind: Kustomization
      name: "*"
    - kind: HelmRelease
      name: "*"
      namespace: "*"
""",
    "README.md": "# fleet\n\nManifests for the demo cluster.\n",
    ".github/workflows/ci.yaml": "on: push\n",
}


def webhook(received: Path) -> http.server.ThreadingHTTPServer:
    """A loopback endpoint standing in for Slack: append each JSON body to ``received``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with received.open("a") as sink:
                sink.write(json.dumps(json.loads(body or b"{}")) + "\n")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            """Keep the demo's output to what the script prints."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    """Start the servers, print their addresses, serve until SIGTERM or SIGINT."""
    received = Path(sys.argv[1])
    server = GitServer()
    server.start()
    charts = ChartRepository()
    charts.start()
    registry = Registry()
    registry.start()
    slack = webhook(received)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        digest = registry.push_artifact("my-app", "1.0.0", {"app.txt": "my-app 1.0.0\n"})
        signal.signal(signal.SIGUSR1, lambda *_: registry.tag_many("my-app", digest, ["1.0.1"]))
        charts.add_chart(
            "ingress-nginx",
            "4.8.3",
            app_version="1.9.4",
            values={"controller": {"replicaCount": 1}},
            templates={"controller.yaml": CONTROLLER_TEMPLATE},
        )
        files = {
            path: text.replace("${CHARTS_URL}", charts.url).replace("${REGISTRY}", registry.host)
            for path, text in {**MANIFESTS, **INFRASTRUCTURE}.items()
        }
        server.create_repo("fleet", files, message="Add my-app and ingress-nginx")
        print(server.http_url("fleet"), flush=True)
        print(registry.host, flush=True)
        print(f"http://127.0.0.1:{slack.server_address[1]}/services/T0/B0/demo", flush=True)
        while True:
            signal.pause()
    finally:
        slack.shutdown()
        registry.stop()
        charts.stop()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

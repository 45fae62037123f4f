"""Serve one Git repository of manifests on loopback for ``make demo``, until SIGTERM.

Prints the repository's clone URL on the first line of standard output, then waits.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from tide.testing import GitServer

MANIFESTS = {
    "apps/podinfo/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.7.0
""",
    "apps/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
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
        server.create_repo("fleet", MANIFESTS, message="Add podinfo")
        print(server.http_url("fleet"), flush=True)
        while True:
            signal.pause()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

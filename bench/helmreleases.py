"""N HelmReleases of one small chart: a Deployment, a ServiceAccount and a Service each.

Run: ``.venv/bin/python bench/helmreleases.py [--count 100] [--repeat 3] [--concurrent 20]``.

The shape of Flux's published HelmRelease benchmark (fluxcd/flux-benchmark): every HelmRelease
installs one chart from one Helm repository (here a local :class:`~tide.testing.ChartRepository`
over HTTP) through its own generated HelmChart, and Helm waits for the objects (kstatus), on a
control plane with a controller-manager, a scheduler and simulated (kwok) nodes. The source and
helm controllers run as a ``tide controller`` process, so its memory and API traffic are its own.

Per repeat, in a fresh namespace and a fresh controller process:

- ``ready_seconds``: from the first HelmRelease created until all N are Ready.
- ``peak_rss_mib``: the controller process's peak resident memory (``VmHWM``).
- ``api_requests`` / ``api_writes``: replies the controller got from the API server, all and
  writes only (POST, PUT, PATCH, DELETE less dry runs). Helm's own requests (the SDK's Go
  client) are not counted here: they do not pass through Tide's client.
- ``helm_writes``: Helm's own writes, which the SDK sends with its own (Go) client: the API
  server's count (``apiserver_request_total``) of writes to Secrets (Helm's storage),
  Deployments, ServiceAccounts and Services, status subresources excluded (those are the
  controller-manager's).
- ``idle_writes`` / ``idle_helm_writes``: a second controller process started on the same N
  (every HelmRelease and HelmChart reconciled again, nothing changed) — the writes it made
  through Tide's client and through Helm's (target: zero for both).
"""

from __future__ import annotations

import argparse
import asyncio
from functools import partial

from _common import WRITE_METHODS, Fleet, run_and_print  # bench/ is on sys.path when run
from prometheus_client.parser import text_string_to_metric_families

from tide.helm.setup import HELM_RELEASE
from tide.install import install_crds
from tide.kube.client import KubeClient
from tide.source.helmrepository import HELM_REPOSITORY
from tide.testing import ChartRepository, ControlPlane

TEMPLATES = {
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      serviceAccountName: {{ .Release.Name }}
      containers: [{name: app, image: "ghcr.io/stefanprodan/podinfo:6.7.0"}]
""",
    "serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\n"
    "metadata: {name: {{ .Release.Name }}}\n",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: {{ .Release.Name }}}
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{port: 80, targetPort: 9898}]
""",
}

HELM_WRITTEN = {"secrets", "deployments", "serviceaccounts", "services"}
"""Resources whose writes the API server counts as Helm's in this benchmark."""


def helm_writes(plane: ControlPlane) -> float:
    """The API server's count of writes to Helm's storage and the chart's kinds so far."""
    total = 0.0
    for family in text_string_to_metric_families(plane.kubectl("get", "--raw", "/metrics")):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "apiserver_request_total"
                and labels.get("verb") in (*WRITE_METHODS, "APPLY")
                and labels.get("resource") in HELM_WRITTEN
                and not labels.get("subresource")
                and labels.get("dry_run", "") == ""
            ):
                total += sample.value
    return total


def fleet(repo: ChartRepository, plane: ControlPlane) -> Fleet:
    """N HelmReleases of chart ``app``, each through its own HelmChart."""
    repository = {"metadata": {"name": "charts"}, "spec": {"interval": "1h", "url": repo.url}}

    def spec(index: int, namespace: str) -> dict:
        return {
            "interval": "1h", "timeout": "5m",
            "chart": {"spec": {
                "chart": "app", "version": "1.0.0", "interval": "1h",
                "sourceRef": {"kind": "HelmRepository", "name": "charts"},
            }},
        }  # fmt: skip

    return Fleet(
        rt=HELM_RELEASE,
        controllers=("source", "helm"),
        counted="helmrelease",
        source=(HELM_REPOSITORY, repository),
        spec=spec,
        again="idle",
        extra={"helm_writes": partial(helm_writes, plane)},
    )


async def main() -> None:
    """Run the benchmark and print one line per repeat and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100, help="HelmReleases")
    parser.add_argument("--repeat", type=int, default=3, help="runs, each from scratch")
    parser.add_argument("--concurrent", type=int, default=20, help="reconciles in flight")
    parser.add_argument("--replicas", type=int, default=0, help="Deployment replicas")
    args = parser.parse_args()
    with ControlPlane(workloads=True) as plane, ChartRepository() as repo:
        repo.add_chart("app", "1.0.0", values={"replicas": args.replicas}, templates=TEMPLATES)
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        await admin.close()
        print(f"{args.count} HelmReleases (Deployment, ServiceAccount, Service each):")
        await run_and_print(
            plane,
            fleet(repo, plane),
            prefix="bench-hr",
            count=args.count,
            runs=args.repeat,
            concurrent=args.concurrent,
        )


if __name__ == "__main__":
    asyncio.run(main())

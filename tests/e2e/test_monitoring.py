"""The monitoring layout: a chart installed by a HelmRelease, then configs that wait for it.

As Flux's monitoring example lays it out: ``monitoring/controllers`` holds a HelmRepository and a
``helm.toolkit.fluxcd.io/v2beta2`` HelmRelease of a kube-prometheus-stack chart (``55.x``, inline
values); ``monitoring/configs`` holds the dashboards, applied by a second Kustomization that
``dependsOn`` the first, so they land only once the stack is installed and healthy. A local
chart repository stands in for the public one; its chart carries a Grafana Deployment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (
    assert_kstatus,
    condition,
    ensure_namespace,
    get,
    tide_controller,
    wait_condition,
)
from tide.testing import ChartRepository, ControlPlane, GitServer

pytestmark = pytest.mark.e2e

NAMESPACE = "e2e-flux-monitoring"
MONITORING = "e2e-monitoring"
"""The namespace the controllers folder creates and the stack is installed into."""
GRAFANA = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-grafana
spec:
  replicas: {{ .Values.grafana.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-grafana}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-grafana}
    spec:
      containers:
        - name: grafana
          image: grafana/grafana:{{ .Values.grafana.tag }}
"""


def _repo(charts_url: str) -> dict[str, str]:
    controllers = "monitoring/controllers/kube-prometheus-stack"
    return {
        f"{controllers}/kustomization.yaml": (
            "resources:\n  - namespace.yaml\n  - repository.yaml\n  - release.yaml\n"
        ),
        f"{controllers}/namespace.yaml": (
            f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {MONITORING}\n"
        ),
        f"{controllers}/repository.yaml": f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: prometheus-community
  namespace: {MONITORING}
spec:
  interval: 24h
  url: {charts_url}
""",
        f"{controllers}/release.yaml": f"""\
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: kube-prometheus-stack
  namespace: {MONITORING}
spec:
  interval: 30m
  chart:
    spec:
      chart: kube-prometheus-stack
      version: "55.x"
      sourceRef:
        kind: HelmRepository
        name: prometheus-community
  install:
    crds: Create
  values:
    grafana:
      replicas: 2
      tag: "10.2.2"
""",
        "monitoring/configs/kustomization.yaml": "resources:\n  - dashboards.yaml\n",
        "monitoring/configs/dashboards.yaml": f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: flux-dashboards
  namespace: {MONITORING}
  labels: {{grafana_dashboard: "1"}}
data:
  control-plane.json: '{{"title": "Flux control plane"}}'
""",
    }


def _manifests(url: str) -> str:
    return f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: monitoring
  namespace: {NAMESPACE}
spec:
  interval: 10m
  url: {url}
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: monitoring-controllers
  namespace: {NAMESPACE}
spec:
  interval: 1h
  prune: true
  wait: true
  timeout: 2m
  path: ./monitoring/controllers
  sourceRef:
    kind: GitRepository
    name: monitoring
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: monitoring-configs
  namespace: {NAMESPACE}
spec:
  interval: 1h
  prune: true
  path: ./monitoring/configs
  dependsOn:
    - name: monitoring-controllers
  sourceRef:
    kind: GitRepository
    name: monitoring
"""


@pytest.fixture(scope="module")
def charts() -> Iterator[ChartRepository]:
    with ChartRepository() as repository:
        repository.add_chart(
            "kube-prometheus-stack",
            "55.5.0",
            values={"grafana": {"replicas": 1, "tag": "10.0.0"}},
            templates={"grafana.yaml": GRAFANA},
        )
        yield repository


@pytest.fixture(scope="module")
def controller(
    installed: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    ensure_namespace(installed, NAMESPACE)
    folder = tmp_path_factory.mktemp("monitoring")
    with tide_controller(installed, folder, namespaces=(NAMESPACE, MONITORING)):
        yield installed


def test_the_stack_is_installed_then_its_dashboards_applied(
    controller: ControlPlane, git_server: GitServer, charts: ChartRepository
) -> None:
    plane = controller
    git_server.create_repo("e2e-monitoring", _repo(charts.url))
    plane.kubectl("apply", "-f", "-", input=_manifests(git_server.http_url("e2e-monitoring")))

    release = wait_condition(plane, MONITORING, "helmrelease/kube-prometheus-stack", status="True")
    assert condition(release, "Ready")["message"] == (  # type: ignore[index]
        f"Helm install succeeded for release {MONITORING}/kube-prometheus-stack.v1 "
        "with chart kube-prometheus-stack@55.5.0"
    )
    grafana = get(plane, MONITORING, "deployment/kube-prometheus-stack-grafana")
    assert grafana is not None
    assert grafana["spec"]["replicas"] == 2  # the HelmRelease's inline values won
    assert grafana["spec"]["template"]["spec"]["containers"][0]["image"] == "grafana/grafana:10.2.2"

    configs = wait_condition(plane, NAMESPACE, "kustomization/monitoring-configs", status="True")
    controllers = get(plane, NAMESPACE, "kustomization/monitoring-controllers")
    assert condition(controllers, "Ready")["status"] == "True"  # type: ignore[index]
    dashboards = get(plane, MONITORING, "configmap/flux-dashboards")
    assert dashboards is not None and dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configs["status"]["lastAppliedRevision"].startswith("main@sha1:")
    assert_kstatus(plane, NAMESPACE, MONITORING)

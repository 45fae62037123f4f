"""The monorepo layout of Flux 2.7+: one Git repository split by an ArtifactGenerator.

An ``ArtifactGenerator`` turns the repository's ``infrastructure/`` and ``apps/`` folders into
two ``ExternalArtifact``s; one Kustomization per artifact builds its root (``path: ./``), and
``apps`` waits for ``infrastructure`` (``dependsOn``), which creates the namespace the apps need.
A commit that touches only ``apps/`` changes only the ``apps`` artifact.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (
    assert_kstatus,
    condition,
    ensure_namespace,
    eventually,
    get,
    tide_controller,
    wait_condition,
)
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.e2e

NAMESPACE = "e2e-monorepo"
SHOP = "e2e-shop"
"""The namespace ``infrastructure/`` creates and ``apps/`` deploys into."""
REPO = {
    "infrastructure/kustomization.yaml": "resources:\n  - namespace.yaml\n  - cache.yaml\n",
    "infrastructure/namespace.yaml": (
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {SHOP}\n"
    ),
    "infrastructure/cache.yaml": (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\n  namespace: {SHOP}\n"
        "data:\n  engine: valkey\n"
    ),
    "apps/kustomization.yaml": "resources:\n  - storefront.yaml\n",
    "apps/storefront.yaml": (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: storefront\n  namespace: {SHOP}\n"
        "data:\n  theme: light\n"
    ),
    "apps/NOTES.md": "Storefront settings; not deployed.\n",
    "README.md": "# shop monorepo\n",
}


def _manifests(url: str) -> str:
    return f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: shop
  namespace: {NAMESPACE}
spec:
  interval: 10m
  url: {url}
  ref:
    branch: main
---
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: shop
  namespace: {NAMESPACE}
spec:
  sources:
    - alias: shop
      kind: GitRepository
      name: shop
  artifacts:
    - name: infrastructure
      originRevision: "@shop"
      copy:
        - from: "@shop/infrastructure/**"
          to: "@artifact/"
    - name: apps
      originRevision: "@shop"
      copy:
        - from: "@shop/apps/**"
          to: "@artifact/"
          exclude: ["*.md"]
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infrastructure
  namespace: {NAMESPACE}
spec:
  interval: 10m
  prune: true
  wait: true
  timeout: 1m
  path: ./
  sourceRef:
    kind: ExternalArtifact
    name: infrastructure
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: {NAMESPACE}
spec:
  interval: 10m
  prune: true
  path: ./
  dependsOn:
    - name: infrastructure
  sourceRef:
    kind: ExternalArtifact
    name: apps
"""


@pytest.fixture(scope="module")
def controller(
    installed: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    ensure_namespace(installed, NAMESPACE)
    folder = tmp_path_factory.mktemp("monorepo")
    with tide_controller(installed, folder, namespaces=(NAMESPACE,)):
        yield installed


def test_a_monorepo_split_into_artifacts_deploys_infrastructure_then_apps(
    controller: ControlPlane, git_server: GitServer
) -> None:
    plane = controller
    head = git_server.create_repo("e2e-shop", REPO)
    plane.kubectl("apply", "-f", "-", input=_manifests(git_server.http_url("e2e-shop")))

    apps = wait_condition(plane, NAMESPACE, "kustomization/apps", status="True")
    infrastructure = wait_condition(plane, NAMESPACE, "kustomization/infrastructure", status="True")
    storefront = get(plane, SHOP, "configmap/storefront")
    assert storefront is not None and storefront["data"] == {"theme": "light"}
    assert get(plane, SHOP, "configmap/cache") is not None
    # Each Kustomization applied its own artifact, whose origin is the repository's commit.
    for kustomization, name in ((apps, "apps"), (infrastructure, "infrastructure")):
        artifact = get(plane, NAMESPACE, f"externalartifact/{name}")
        assert artifact is not None
        revision = artifact["status"]["artifact"]["revision"]
        assert kustomization["status"]["lastAppliedRevision"] == revision
        origin = artifact["status"]["artifact"]["metadata"]["org.opencontainers.image.revision"]
        assert origin.endswith(head)
    assert_kstatus(plane, NAMESPACE)

    # A commit touching only apps/ publishes a new apps artifact; infrastructure keeps its own.
    before = get(plane, NAMESPACE, "externalartifact/infrastructure")
    git_server.commit("e2e-shop", {"apps/storefront.yaml": REPO["apps/storefront.yaml"].replace(
        "light", "dark")})  # fmt: skip
    plane.kubectl(
        "annotate", "--overwrite", "-n", NAMESPACE, "gitrepository/shop",
        "reconcile.fluxcd.io/requestedAt=after-apps-commit",
    )  # fmt: skip

    def dark() -> bool:
        live = get(plane, SHOP, "configmap/storefront")
        return bool(live and live["data"] == {"theme": "dark"})

    eventually(dark, what="the apps commit to reach the storefront ConfigMap")
    after = get(plane, NAMESPACE, "externalartifact/infrastructure")
    assert before is not None and after is not None
    assert after["status"]["artifact"]["digest"] == before["status"]["artifact"]["digest"]
    assert condition(after, "Ready")["status"] == "True"
    assert_kstatus(plane, NAMESPACE)

"""The seed's operating flow with ``tide`` in place of ``flux``, against the real cluster.

``get all`` → ``get sources git`` → ``get kustomizations`` → ``events --for`` → ``suspend`` →
``resume`` → ``reconcile --with-source`` after a pushed commit, each run as a user runs it: a
``tide`` process reading the kubeconfig, while the controllers reconcile in this process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.integration.cli.conftest import tide
from tests.integration.helpers import eventually
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: {text}\n"


def words(line: str) -> list[str]:
    return line.split()


async def test_the_seed_operating_flow_works_with_tide_in_place_of_flux(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
) -> None:
    repo = f"ops-{namespace[-8:]}"
    first = git_server.create_repo(repo, {"app/greeting.yaml": CONFIG.format(text="hello")})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./app"})
    await wait_for(kube, namespace, "app", status="True")
    kubeconfig = control_plane.kubeconfig
    revision = f"main@sha1:{first}"

    listed = await tide(kubeconfig, "get", "all", "-n", namespace)
    assert listed.code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert words(lines[0]) == ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]
    assert words(lines[1])[:4] == ["gitrepository/fleet", revision, "False", "True"]
    assert f"stored artifact for revision '{revision}'" in lines[1]
    kustomization_line = next(line for line in lines if line.startswith("kustomization/"))
    assert words(kustomization_line)[:4] == ["kustomization/app", revision, "False", "True"]
    assert kustomization_line.rstrip().endswith(f"Applied revision: {revision}")

    sources = await tide(kubeconfig, "get", "sources", "git", "-n", namespace)
    assert [words(line)[:4] for line in sources.stdout.splitlines()] == [
        ["NAME", "REVISION", "SUSPENDED", "READY"],
        ["fleet", revision, "False", "True"],
    ]

    as_json = await tide(kubeconfig, "get", "ks", "-n", namespace, "-o", "json")
    [row] = json.loads(as_json.stdout)
    assert row == {
        "kind": "Kustomization", "namespace": namespace, "name": "app", "revision": revision,
        "suspended": False, "ready": "True", "message": f"Applied revision: {revision}",
    }  # fmt: skip
    failing = await tide(
        kubeconfig, "get", "kustomizations", "-n", namespace, "--status-selector", "ready=false"
    )
    assert failing.code == 0 and failing.stdout == ""
    assert f'no Kustomization objects found in "{namespace}" namespace' in failing.stderr

    events = await tide(kubeconfig, "events", "--for", "Kustomization/app", "-n", namespace)
    assert events.code == 0, events.stderr
    event_lines = events.stdout.splitlines()
    assert words(event_lines[0]) == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("Kustomization/app" in line and "Normal" in line for line in event_lines[1:])
    assert all("GitRepository/" not in line for line in event_lines)

    suspended = await tide(kubeconfig, "suspend", "kustomization", "app", "-n", namespace)
    assert suspended.code == 0, suspended.stderr
    assert "✔ Kustomization suspended" in suspended.stderr
    obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
    assert obj["spec"]["suspend"] is True
    shown = await tide(kubeconfig, "get", "kustomization", "app", "-n", namespace)
    assert words(shown.stdout.splitlines()[1])[:3] == ["app", revision, "True"]
    refused = await tide(kubeconfig, "reconcile", "kustomization", "app", "-n", namespace)
    assert refused.code == 1
    assert "is suspended; run 'tide resume kustomization app" in refused.stderr

    resumed = await tide(kubeconfig, "resume", "kustomization", "app", "-n", namespace)
    assert resumed.code == 0, resumed.stderr
    assert f"✔ applied revision {revision}" in resumed.stderr
    assert (await kube.get(KUSTOMIZATION, "app", namespace=namespace))["spec"]["suspend"] is False

    second = git_server.commit(repo, {"app/greeting.yaml": CONFIG.format(text="goodbye")})
    pushed = f"main@sha1:{second}"
    reconciled = await tide(
        kubeconfig, "reconcile", "kustomization", "app", "--with-source", "-n", namespace
    )
    assert reconciled.code == 0, reconciled.stderr
    assert f"► annotating GitRepository fleet in {namespace} namespace" in reconciled.stderr
    assert f"✔ fetched revision {pushed}" in reconciled.stderr
    assert f"✔ applied revision {pushed}" in reconciled.stderr
    greeting = await kube.get(resources.CONFIG_MAP, "greeting", namespace=namespace)
    assert greeting["data"]["text"] == "goodbye"


async def test_a_missing_object_and_a_bad_flag_are_one_line_each(
    control_plane: ControlPlane, crds: list[str], namespace: str
) -> None:
    kubeconfig = control_plane.kubeconfig

    missing = await tide(kubeconfig, "reconcile", "source", "git", "nope", "-n", namespace)
    assert missing.code == 1
    assert missing.stderr.strip() == f'✗ GitRepository "nope" not found in "{namespace}" namespace'

    bad = await tide(kubeconfig, "get", "ks", "-n", namespace, "--status-selector", "healthy")
    assert bad.code == 2
    assert "expected ready=true|false|unknown" in bad.stderr
    assert "Traceback" not in bad.stderr + missing.stderr


async def test_no_cluster_reachable_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: u}}]\n"
        "users: [{name: u, user: {token: abc}}]\n"
    )

    ran = await tide(kubeconfig, "get", "kustomizations")

    assert ran.code == 1
    assert "Traceback" not in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert ran.stderr.startswith("✗ ")


CHILD = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: child
spec:
  interval: 10m
  path: ./app
  prune: true
  targetNamespace: {namespace}
  sourceRef:
    kind: GitRepository
    name: fleet
"""


async def test_tree_expands_nested_kustomizations_and_why_names_the_root_cause(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
) -> None:
    repo = f"tree-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "app/greeting.yaml": CONFIG.format(text="hello"),
        "clusters/child.yaml": CHILD.format(namespace=namespace),
        "clusters/settings.yaml": CONFIG.format(text="x").replace("greeting", "settings"),
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "root", {"path": "./clusters"})
    await create_kustomization(kube, namespace, "broken", {"path": "./does/not/exist"})
    await create_kustomization(kube, namespace, "waits", {
        "path": "./app", "dependsOn": [{"name": "broken"}],
    })  # fmt: skip
    await wait_for(kube, namespace, "root", status="True")
    await wait_for(kube, namespace, "child", status="True")
    await wait_for(kube, namespace, "waits", status="False", reason="DependencyNotReady")
    kubeconfig = control_plane.kubeconfig

    tree = await tide(kubeconfig, "tree", "kustomization", "root", "-n", namespace)
    assert tree.code == 0, tree.stderr
    assert tree.stdout.splitlines() == [
        f"Kustomization/{namespace}/root",
        f"├── Kustomization/{namespace}/child",
        f"│   └── ConfigMap/{namespace}/greeting",
        f"└── ConfigMap/{namespace}/settings",
    ]

    why = await tide(kubeconfig, "why", "kustomization", "waits", "-n", namespace)
    assert why.code == 1
    lines = why.stdout.splitlines()
    assert lines[0].startswith(
        f"✗ Kustomization/{namespace}/waits is not Ready (DependencyNotReady)"
    )
    assert lines[1].startswith(f"  → depends on Kustomization/{namespace}/broken: not Ready")
    assert lines[-1].startswith(f"root cause: Kustomization/{namespace}/broken — ")
    assert "does/not/exist" in lines[-1]

    fine = await tide(kubeconfig, "why", "source", "git", "fleet", "-n", namespace)
    assert fine.code == 0
    assert fine.stdout.startswith(f"✔ GitRepository/{namespace}/fleet is Ready: stored artifact")


async def test_trace_export_and_stats_describe_what_runs(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
) -> None:
    repo = f"trace-{namespace[-8:]}"
    commit = git_server.create_repo(repo, {"app/greeting.yaml": CONFIG.format(text="hi")})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./app"})
    await wait_for(kube, namespace, "app", status="True")
    annotations = {"reconcile.fluxcd.io/requestedAt": "once", "team": "web"}
    patch = {"metadata": {"annotations": annotations}}
    await kube.patch_merge(KUSTOMIZATION, "app", patch, namespace=namespace)
    kubeconfig = control_plane.kubeconfig
    revision = f"main@sha1:{commit}"

    traced = await tide(kubeconfig, "trace", "configmap", "greeting", "-n", namespace)
    assert traced.code == 0, traced.stderr
    blocks = [block.strip().splitlines() for block in traced.stdout.split("---")]
    assert blocks[0] == [
        "Object:        ConfigMap/greeting",
        f"Namespace:     {namespace}",
        "Status:        Managed by Flux",
    ]
    assert blocks[1][:4] == [
        "Kustomization: app", f"Namespace:     {namespace}", "Path:          ./app",
        f"Revision:      {revision}",
    ]  # fmt: skip
    assert blocks[1][-1] == f"Message:       Applied revision: {revision}"
    assert blocks[2][0] == "GitRepository: fleet"
    assert f"URL:           {git_server.http_url(repo)}" in blocks[2]

    exported = await tide(kubeconfig, "export", "kustomization", "app", "-n", namespace)
    assert exported.code == 0, exported.stderr
    [document] = list(yaml.safe_load_all(exported.stdout))
    assert document["metadata"] == {
        "name": "app", "namespace": namespace, "annotations": {"team": "web"},
    }  # fmt: skip
    assert document["spec"]["path"] == "./app" and "status" not in document
    assert document["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"

    stats = await tide(kubeconfig, "stats", "-n", namespace)
    assert stats.code == 0, stats.stderr
    rows = {line.split()[0]: line.split()[1:] for line in stats.stdout.splitlines()[1:]}
    assert rows["Kustomization"] == ["1", "0", "0", "-"]
    assert rows["GitRepository"][:3] == ["1", "0", "0"]
    assert rows["GitRepository"][4] in ("B", "KiB")
    assert rows["HelmRelease"] == ["0", "0", "0", "-"]


async def test_create_applies_and_waits_and_delete_removes(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
) -> None:
    repo = f"create-{namespace[-8:]}"
    commit = git_server.create_repo(repo, {"app/greeting.yaml": CONFIG.format(text="made")})
    kubeconfig = control_plane.kubeconfig
    scope = ("-n", namespace)

    exported = await tide(kubeconfig, "create", "kustomization", "app", "--source", "fleet",
                          "--path", "./app", "--prune", "--export", *scope)  # fmt: skip
    assert exported.code == 0, exported.stderr
    assert yaml.safe_load(exported.stdout)["spec"] == {
        "interval": "1m", "path": "./app", "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
    }  # fmt: skip
    assert await kube.get_or_none(KUSTOMIZATION, "app", namespace=namespace) is None

    source = await tide(kubeconfig, "create", "source", "git", "fleet", "--url",
                        git_server.http_url(repo), "--branch", "main", *scope)  # fmt: skip
    assert source.code == 0, source.stderr
    assert "✔ GitRepository fleet is ready" in source.stderr
    created = await tide(kubeconfig, "create", "kustomization", "app", "--source",
                         "GitRepository/fleet", "--path", "./app", "--prune",
                         "--target-namespace", namespace, *scope)  # fmt: skip
    assert created.code == 0, created.stderr
    obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
    assert obj["status"]["lastAppliedRevision"] == f"main@sha1:{commit}"
    assert (await kube.get(resources.CONFIG_MAP, "greeting", namespace=namespace))["data"] == {
        "text": "made"
    }

    bad = await tide(kubeconfig, "create", "source", "git", "x", "--url", "ftp://x", *scope)
    assert bad.code == 2 and "spec.url" in bad.stderr

    deleted = await tide(kubeconfig, "delete", "kustomization", "app", "--silent", *scope)
    assert deleted.code == 0, deleted.stderr
    assert "✔ Kustomization deleted" in deleted.stderr

    async def gone() -> bool:
        return await kube.get_or_none(resources.CONFIG_MAP, "greeting", namespace=namespace) is None

    await eventually(gone, what="the pruned ConfigMap to go with its Kustomization")

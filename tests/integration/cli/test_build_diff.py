"""``tide build`` and ``tide diff`` show what the controller would apply, and write nothing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from tests.integration.cli.test_operating import tide
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

GREETING = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: ${text}\n"
OLD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\ndata:\n  k: v\n"
EXTRA = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  k: v\n"


def secret(value: str) -> str:
    encoded = base64.b64encode(value.encode()).decode()
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: {encoded}\n"


FILES = {
    "app/greeting.yaml": GREETING,
    "app/old.yaml": OLD,
    "app/creds.yaml": secret("hunter2-live"),
    "app/kustomization.yaml": "resources: [greeting.yaml, old.yaml, creds.yaml]\n",
}


def checkout(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root / "app"


async def test_build_and_diff_show_the_change_a_local_folder_would_make(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
    tmp_path: Path,
) -> None:
    repo = f"diff-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "postBuild": {"substitute": {"text": "hello"}},
    })  # fmt: skip
    await wait_for(kube, namespace, "app", status="True")
    kubeconfig = control_plane.kubeconfig
    same = checkout(tmp_path / "same", FILES)
    changed = checkout(tmp_path / "changed", {
        **FILES,
        "app/greeting.yaml": GREETING.replace("${text}", "${text} and goodbye"),
        "app/old.yaml": EXTRA,
        "app/creds.yaml": secret("hunter3-new"),
    })  # fmt: skip
    (tmp_path / "changed" / "app" / "kustomization.yaml").write_text(
        "resources: [greeting.yaml, old.yaml, creds.yaml]\n"
    )

    built = await tide(kubeconfig, "build", "kustomization", "app", "--path", str(changed),
                       "-n", namespace)  # fmt: skip
    assert built.code == 0, built.stderr
    objects = {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(built.stdout)}
    assert set(objects) == {"greeting", "extra", "creds"}
    assert objects["greeting"]["data"] == {"text": "hello and goodbye"}
    assert objects["greeting"]["metadata"]["namespace"] == namespace
    assert objects["greeting"]["metadata"]["labels"] == {
        "kustomize.toolkit.fluxcd.io/name": "app",
        "kustomize.toolkit.fluxcd.io/namespace": namespace,
    }

    unchanged = await tide(kubeconfig, "diff", "kustomization", "app", "--path", str(same),
                           "-n", namespace)  # fmt: skip
    assert (unchanged.code, unchanged.stdout) == (0, ""), unchanged.stderr

    diff = await tide(kubeconfig, "diff", "kustomization", "app", "--path", str(changed),
                      "-n", namespace)  # fmt: skip
    assert diff.code == 1, diff.stderr
    assert f"► ConfigMap/{namespace}/greeting drifted" in diff.stdout
    assert "-  text: hello\n" in diff.stdout and "+  text: hello and goodbye\n" in diff.stdout
    assert f"► ConfigMap/{namespace}/extra created" in diff.stdout
    assert f"► ConfigMap/{namespace}/old deleted" in diff.stdout
    assert f"► Secret/{namespace}/creds drifted" in diff.stdout
    assert "-  password: '***'\n" in diff.stdout
    assert "+  password: '*** (changed)'\n" in diff.stdout
    for plaintext in ("hunter2", "hunter3", base64.b64encode(b"hunter3-new").decode()):
        assert plaintext not in diff.stdout + diff.stderr

    live = await kube.get(resources.CONFIG_MAP, "greeting", namespace=namespace)
    assert live["data"] == {"text": "hello"}
    assert await kube.get_or_none(resources.CONFIG_MAP, "extra", namespace=namespace) is None


async def test_build_offline_and_the_errors_of_build_and_diff(
    control_plane: ControlPlane, crds: list[str], namespace: str, tmp_path: Path
) -> None:
    folder = checkout(tmp_path / "repo", FILES)
    manifest = tmp_path / "ks.yaml"
    manifest.write_text(yaml.safe_dump({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "app"},
        "spec": {"interval": "5m", "path": "./app", "targetNamespace": "web", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                 "postBuild": {"substitute": {"text": "offline"}}},
    }))  # fmt: skip
    kubeconfig = control_plane.kubeconfig

    offline = await tide(kubeconfig, "build", "ks", "app", "--path", str(folder), "--dry-run",
                         "--kustomization-file", str(manifest))  # fmt: skip
    assert offline.code == 0, offline.stderr
    greeting = next(d for d in yaml.safe_load_all(offline.stdout) if d["kind"] == "ConfigMap"
                    and d["metadata"]["name"] == "greeting")  # fmt: skip
    assert greeting["data"] == {"text": "offline"}
    assert greeting["metadata"]["namespace"] == "web"

    no_file = await tide(kubeconfig, "build", "ks", "app", "--path", str(folder), "--dry-run")
    assert no_file.code == 1
    assert (
        no_file.stderr.strip()
        == "✗ --dry-run needs --kustomization-file: there is no cluster to ask"
    )

    missing = await tide(kubeconfig, "diff", "ks", "nope", "--path", str(folder), "-n", namespace)
    assert missing.code == 2
    assert missing.stderr.strip() == f'✗ Kustomization "nope" not found in "{namespace}" namespace'

    (folder / "kustomization.yaml").write_text("resources: [nothere.yaml]\n")
    broken = await tide(kubeconfig, "build", "ks", "app", "--path", str(folder), "--dry-run",
                        "--kustomization-file", str(manifest))  # fmt: skip
    assert broken.code == 1
    assert "nothere.yaml" in broken.stderr and "Traceback" not in broken.stderr


async def test_plan_previews_a_branch_against_the_live_cluster_without_writing(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
) -> None:
    repo = f"plan-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    feature = git_server.commit(repo, {
        "app/greeting.yaml": GREETING.replace("${text}", "${text}, from a branch"),
        "app/old.yaml": EXTRA,
    }, branch="feature")  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "postBuild": {"substitute": {"text": "hello"}},
    })  # fmt: skip
    await wait_for(kube, namespace, "app", status="True")
    kubeconfig = control_plane.kubeconfig
    flags = ("--source", "fleet", "-n", namespace)

    current = await tide(kubeconfig, "plan", "--revision", "main", *flags)
    assert current.code == 0, current.stderr
    assert current.stdout.startswith(
        f"✔ Kustomization {namespace}/app (./app): no changes at main@"
    )

    planned = await tide(kubeconfig, "plan", "--revision", "feature", *flags)
    assert planned.code == 1, planned.stderr
    lines = planned.stdout
    assert lines.startswith(f"✎ Kustomization {namespace}/app (./app) at feature@sha1:{feature}:")
    assert f"► ConfigMap/{namespace}/greeting drifted" in lines
    assert "+  text: hello, from a branch\n" in lines
    assert f"► ConfigMap/{namespace}/extra created" in lines
    assert f"► ConfigMap/{namespace}/old deleted" in lines
    live = await kube.get(resources.CONFIG_MAP, "greeting", namespace=namespace)
    assert live["data"] == {"text": "hello"}

    unknown = await tide(kubeconfig, "plan", "--revision", "no-such-branch", *flags)
    assert unknown.code == 2
    assert "revision 'no-such-branch' is not a branch, tag or full commit sha" in unknown.stderr

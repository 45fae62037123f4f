"""The dashboard over a kubeconfig of three contexts: two real control planes and one that is
not there. ``tide dashboard`` runs as its own process on that kubeconfig; chromium opens it.

Context ``a`` is the session's plane as ``admin`` (its controllers reconcile a real fleet);
context ``b`` is a second plane as ``alice``, who may read Flux objects everywhere there but
patch only in one namespace; context ``c`` names a port nothing listens on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from playwright.async_api import Page, expect

from tests.integration.dashboard.conftest import screenshot
from tests.integration.dashboard.test_dashboard import given_a_fleet, tide_dashboard
from tests.integration.helpers import eventually
from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer
from tide.testing._process import free_port

pytestmark = pytest.mark.integration

B_REVISION = "main@sha1:" + "b" * 40
READ_FLUX = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: flux-reader}
rules:
- apiGroups: [source.toolkit.fluxcd.io, kustomize.toolkit.fluxcd.io, helm.toolkit.fluxcd.io,
              notification.toolkit.fluxcd.io, image.toolkit.fluxcd.io, source.extensions.fluxcd.io]
  resources: ["*"]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [get, list, watch]
"""


@pytest.fixture(scope="module")
def second_plane() -> Iterator[ControlPlane]:
    """A second control plane (no controllers), for the kubeconfig's context ``b``."""
    with ControlPlane() as plane:
        yield plane


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def second_kube(second_plane: ControlPlane) -> AsyncIterator[KubeClient]:
    """An admin client of the second plane, its CRDs installed."""
    client = KubeClient.from_kubeconfig(second_plane.kubeconfig, field_manager="tide-tests")
    await install_crds(client)
    yield client
    await client.close()


def _ready(revision: str) -> dict[str, Any]:
    return {
        "observedGeneration": 1,
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "Succeeded", "observedGeneration": 1,
            "message": f"stored artifact for revision '{revision}'",
            "lastTransitionTime": "2026-12-02T00:00:00Z",
        }],
        "artifact": {
            "path": "gitrepository/x/fleet/b.tar.gz", "url": "http://127.0.0.1:9/b.tar.gz",
            "revision": revision, "digest": "sha256:" + "0" * 64,
            "lastUpdateTime": "2026-12-02T00:00:00Z",
        },
    }  # fmt: skip


async def given_the_second_cluster(plane: ControlPlane, kube: KubeClient, namespace: str) -> Path:
    """On plane b, in ``namespace``: a Ready GitRepository ``fleet`` (the name a's has too) and
    a failing Kustomization ``remote``; ``alice`` reads Flux objects and patches them here.
    Return alice's kubeconfig."""
    await kube.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    fleet = await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": namespace},
        "spec": {"interval": "10m", "url": "https://git.example/b.git", "ref": {"branch": "main"}},
    })  # fmt: skip
    await kube.apply_status(GIT_REPOSITORY, {**fleet, "status": _ready(B_REVISION)})
    remote = await kube.create(KUSTOMIZATION, {
        "metadata": {"name": "remote", "namespace": namespace},
        "spec": {"interval": "10m", "path": "./nowhere", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip
    failed = {
        "type": "Ready",
        "status": "False",
        "reason": "BuildFailed",
        "observedGeneration": 1,
        "message": "kustomization path not found: ./nowhere",
        "lastTransitionTime": "2026-12-02T00:00:00Z",
    }
    await kube.apply_status(
        KUSTOMIZATION, {**remote, "status": {"observedGeneration": 1, "conditions": [failed]}}
    )
    plane.kubectl("apply", "-f", "-", input=READ_FLUX)
    plane.kubectl("create", "clusterrolebinding", "alice-reads", "--clusterrole=flux-reader",
                  "--user=alice")  # fmt: skip
    plane.kubectl(
        "create", "role", "flux-operator", "-n", namespace, "--verb=get,list,watch,patch",
        "--resource=gitrepositories.source.toolkit.fluxcd.io,"
        "kustomizations.kustomize.toolkit.fluxcd.io",
    )  # fmt: skip
    plane.kubectl("create", "role", "events-writer", "-n", namespace, "--verb=create,patch",
                  "--resource=events")  # fmt: skip
    for role in ("flux-operator", "events-writer"):
        plane.kubectl("create", "rolebinding", role, "-n", namespace, f"--role={role}",
                      "--user=alice")  # fmt: skip
    return plane.kubeconfig_for_user("alice")


def three_contexts(a: Path, b: Path, folder: Path) -> tuple[Path, int]:
    """Merge ``a`` and ``b`` into one kubeconfig of contexts a, b and c (a's credentials on a
    port nothing listens on); return it and c's port."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [],
                              "users": [], "contexts": [], "current-context": "a"}  # fmt: skip
    loaded = {"a": yaml.safe_load(a.read_text()), "b": yaml.safe_load(b.read_text())}
    loaded["c"] = yaml.safe_load(a.read_text())
    port = free_port()
    loaded["c"]["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    for name, config in loaded.items():
        merged["clusters"].append({"name": name, "cluster": config["clusters"][0]["cluster"]})
        merged["users"].append({"name": name, "user": config["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path = folder / "three.kubeconfig"
    path.write_text(yaml.safe_dump(merged))
    path.chmod(0o600)
    return path, port


def row(page: Page, context: str, ref: str):
    return page.locator(f'tr[data-context="{context}"][data-ref="{ref}"]')


async def test_every_context_shows_and_an_action_reaches_its_own_cluster_only(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
    second_plane: ControlPlane,
    second_kube: KubeClient,
    browser: Page,
    tmp_path: Path,
) -> None:
    await given_a_fleet(kube, namespace, git_server)
    alice = await given_the_second_cluster(second_plane, second_kube, namespace)
    kubeconfig, dead_port = three_contexts(control_plane.kubeconfig, alice, tmp_path)
    page = browser
    async with tide_dashboard(kubeconfig) as url:
        await page.goto(url)
        # Both clusters' objects, each in its context; the same name in both is two rows.
        await expect(row(page, "a", f"Kustomization/{namespace}/app")).to_contain_text("ready")
        await expect(row(page, "b", f"Kustomization/{namespace}/remote")).to_contain_text(
            "kustomization path not found: ./nowhere"
        )
        await expect(row(page, "a", f"GitRepository/{namespace}/fleet")).to_contain_text("ready")
        await expect(row(page, "b", f"GitRepository/{namespace}/fleet")).to_contain_text(B_REVISION)
        # Counts per context and in total; the unreachable context says so and why.
        contexts = page.locator("#contexts")
        await expect(contexts.locator('[data-context="a"]')).to_contain_text("2 failing")
        await expect(contexts.locator('[data-context="b"]')).to_contain_text("alice")
        await expect(contexts.locator('[data-context="b"]')).to_contain_text("1 failing")
        unreachable = contexts.locator('[data-context="c"]')
        await expect(unreachable).to_contain_text("unreachable")
        await expect(unreachable).to_contain_text(f"https://127.0.0.1:{dead_port}")
        kustomizations = page.locator('.card[data-kind="Kustomization"]')
        await expect(kustomizations).to_contain_text("3 failing")
        await expect(page.locator("#who")).to_have_text("admin (a), alice (b)")
        await screenshot(page, "dashboard-contexts")

        # A context's card (or the context filter) narrows the page to that cluster.
        await contexts.locator('[data-context="b"]').click()
        await expect(kustomizations).to_contain_text("1 failing")
        await expect(page.locator("tbody tr")).to_have_count(2)
        await page.select_option("#filter-context", "a")
        await expect(row(page, "b", f"Kustomization/{namespace}/remote")).to_have_count(0)
        await expect(row(page, "a", f"Kustomization/{namespace}/broken")).to_be_visible()
        await page.select_option("#filter-context", "")

        # A list per kind has the context column and its filter too.
        await page.goto(f"{url}#/kind/GitRepository")
        await expect(page.locator("th", has_text="Context")).to_be_visible()
        await expect(page.locator("tbody tr")).to_have_count(2)

        # An object's page is read from its own cluster: b's fleet has b's artifact.
        await page.goto(f"{url}#/object/b/GitRepository/{namespace}/fleet")
        await expect(page.locator("#context")).to_contain_text("in b")
        await expect(page.locator('[data-step="artifact"]')).to_contain_text(B_REVISION)
        await page.goto(f"{url}#/object/a/GitRepository/{namespace}/fleet")
        await expect(page.locator('[data-step="artifact"]')).not_to_contain_text(B_REVISION)

        # One graph per context; the unreachable one is reported in its place.
        await page.goto(f"{url}#/graph")
        b_graph = page.locator('#graph section[data-context="b"]')
        remote = b_graph.locator(f'a.node.failing[data-ref^="Kustomization/{namespace}/remote"]')
        await expect(remote).to_have_count(1)
        assert (await remote.get_attribute("href") or "").startswith("#/object/b/")
        a_graph = page.locator('#graph section[data-context="a"]')
        await expect(a_graph.locator("a.node")).not_to_have_count(0)
        await expect(a_graph.locator(f'a.node[data-ref^="Kustomization/{namespace}/remote"]'))\
            .to_have_count(0)  # fmt: skip
        await expect(page.locator('#graph section[data-context="c"]')).to_contain_text(
            "unreachable"
        )
        await screenshot(page, "dashboard-contexts-graph")

        # Suspend on b's fleet: b's API server, as alice, suspends b's object; a's is untouched.
        await page.goto(url)
        await (
            row(page, "b", f"GitRepository/{namespace}/fleet")
            .locator('button[data-action="suspend"]')
            .click()
        )

        async def suspended_in_b() -> bool:
            obj = await second_kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
            return bool(obj["spec"].get("suspend"))

        await eventually(suspended_in_b, what="b's GitRepository suspended")
        await expect(page.locator("#toast")).to_contain_text("suspended in b")
        await expect(row(page, "b", f"GitRepository/{namespace}/fleet")).to_contain_text(
            "suspended"
        )

        async def recorded_in_b() -> list[dict]:
            listed, _ = await second_kube.list(resources.EVENT, namespace=namespace)
            return [event for event in listed if event["reason"] == "SuspendRequested"]

        events = await eventually(recorded_in_b, what="b's event naming who asked")
        assert events[0]["message"] == "suspended by alice from the dashboard"
        ours = await kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
        assert not ours["spec"].get("suspend")
        listed, _ = await kube.list(resources.EVENT, namespace=namespace)
        assert not [event for event in listed if event["reason"] == "SuspendRequested"]
        await expect(row(page, "a", f"GitRepository/{namespace}/fleet")).to_contain_text("ready")
        # An action that names no context is refused: it would land on the default's namesake.
        async with httpx.AsyncClient() as http:
            unnamed = await http.post(
                f"{url}api/action",
                json={"action": "suspend", "kind": "GitRepository",
                      "namespace": namespace, "name": "fleet"},
                headers={"X-Tide-Dashboard": "1"},
            )  # fmt: skip
        assert unnamed.status_code == 400
        assert "name the action's context" in unnamed.json()["error"]
        ours = await kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
        assert not ours["spec"].get("suspend")

        # b's RBAC, not a's, decides there: alice may not patch in another namespace of b.
        await second_kube.create(resources.NAMESPACE, {"metadata": {"name": f"{namespace}-x"}})
        await second_kube.create(GIT_REPOSITORY, {
            "metadata": {"name": "other", "namespace": f"{namespace}-x"},
            "spec": {"interval": "10m", "url": "https://git.example/x.git"},
        })  # fmt: skip
        other = row(page, "b", f"GitRepository/{namespace}-x/other")
        await expect(other).to_be_visible()
        await expect(other.locator("button")).to_have_count(0)
        await expect(row(page, "a", f"GitRepository/{namespace}/fleet").locator("button"))\
            .not_to_have_count(0)  # fmt: skip

        # b's API server goes away: b is reported unreachable, what it showed stays listed
        # without buttons, and a works on; once it is back, b answers again.
        second_plane.stop_apiserver()
        try:
            card = contexts.locator('[data-context="b"]')
            await expect(card).to_contain_text("unreachable", timeout=60_000)
            b_fleet = row(page, "b", f"GitRepository/{namespace}/fleet")
            await expect(b_fleet).to_be_visible()
            await expect(b_fleet.locator("button")).to_have_count(0)
            await expect(row(page, "a", f"GitRepository/{namespace}/fleet").locator("button"))\
                .not_to_have_count(0)  # fmt: skip
        finally:
            second_plane.start_apiserver()  # here: the plane's servers live with this thread
        await expect(card).not_to_contain_text("unreachable", timeout=60_000)
        await expect(card).to_contain_text("alice")
        await expect(b_fleet.locator('button[data-action="resume"]')).to_be_visible()

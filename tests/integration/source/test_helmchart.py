"""HelmChart from a real chart repository, a real Git server and a real OCI registry.

The controller under test is the ``helm_controller`` fixture of ``test_helmrepository.py``:
``source.setup`` (GitRepository, artifact server) plus the HelmRepository and HelmChart
controllers, against the session's real API server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from tests.integration.helpers import assert_kstatus, eventually, reconcile_count, settled
from tests.integration.source import test_helmrepository as shared
from tests.integration.source.conftest import PASSWORD as GIT_PASSWORD
from tests.integration.source.conftest import USER as GIT_USER
from tests.integration.source.conftest import create_git_repository, create_secret
from tests.integration.source.test_helmrepository import (
    PASSWORD,
    USER,
    HelmController,
    assert_served,
    condition,
    create_helm_repository,
    events_for,
    failing,
    request_reconcile,
    wait_ready,
)
from tide.kube.client import KubeClient
from tide.source.helmchart import HELM_CHART
from tide.source.helmrepository import HELM_REPOSITORY
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ChartRepository, GitServer, Registry, package_chart

pytestmark = pytest.mark.integration

helm_controller = shared.helm_controller
"""The controller under test: ``source.setup`` plus the Helm kinds (see test_helmrepository)."""

CHART_YAML = "apiVersion: v2\nname: app\nversion: 0.1.0\n"
TEMPLATE = "kind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"


@pytest.fixture
def chart_repo() -> Iterator[ChartRepository]:
    """Chart ``demo``: 1.0.0, 1.1.0 and a pre-release 2.0.0-rc.1."""
    with ChartRepository() as repo:
        for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
            repo.add_chart("demo", version, values={"greeting": "hello", "nested": {"a": 1}})
        yield repo


async def create_helm_chart(
    kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]
) -> None:
    await kube.create(HELM_CHART, {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "10m", **spec},
    })  # fmt: skip


def from_repo(chart: str = "demo", **spec: Any) -> dict[str, Any]:
    return {"chart": chart, "sourceRef": {"kind": "HelmRepository", "name": "charts"}, **spec}


async def ready_repository(kube: KubeClient, namespace: str, url: str, **spec: Any) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": url, **spec})
    await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")


def chart_values(data: bytes, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Load a chart archive with the Helm SDK; return its version and default values."""
    archive = tmp_path / f"chart-{hashlib.sha256(data).hexdigest()[:12]}.tgz"
    archive.write_bytes(data)
    with helm.Chart.load(archive) as chart:
        return chart.version, chart.values


# -- from a HelmRepository ---------------------------------------------------------------------
async def test_chart_from_a_repository_is_the_archive_the_repository_serves(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo())

    obj = await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")

    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == "1.1.0"  # "*" is the latest stable release
    served = await assert_served(artifact)
    assert served == (chart_repo.charts_dir / "demo-1.1.0.tgz").read_bytes()
    ready = condition(obj, "Ready")
    assert ready is not None and ready["reason"] == "ChartPullSucceeded"
    assert ready["message"] == "pulled 'demo' chart with version '1.1.0'"
    repo = await kube.get(HELM_REPOSITORY, "charts", namespace=namespace)
    assert obj["status"]["observedSourceArtifactRevision"] == repo["status"]["artifact"]["revision"]
    assert obj["status"]["observedChartName"] == "demo"
    assert obj["status"]["url"] == artifact["url"]
    assert_kstatus(obj)
    events = await events_for(kube, namespace, "demo")
    assert any(e["reason"] == "ChartPullSucceeded" and e["type"] == "Normal" for e in events)


async def test_exact_versions_win_then_the_highest_in_the_range(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    chart_repo.add_chart("demo", "1.0.1")
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "patch", from_repo(version="~1.0"))
    await create_helm_chart(kube, namespace, "exact", from_repo(version="2.0.0-rc.1"))
    await create_helm_chart(kube, namespace, "pre", from_repo(version=">=2.0.0-0"))

    revisions = {}
    for name in ("patch", "exact", "pre"):
        obj = await wait_ready(kube, HELM_CHART, namespace, name, status="True")
        revisions[name] = obj["status"]["artifact"]["revision"]

    assert revisions == {"patch": "1.0.1", "exact": "2.0.0-rc.1", "pre": "2.0.0-rc.1"}


async def test_a_new_chart_version_becomes_a_new_artifact_after_requested_at_on_the_repository(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo())
    first = await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")
    assert first["status"]["artifact"]["revision"] == "1.1.0"
    chart_repo.add_chart("demo", "1.2.0")

    await request_reconcile(kube, HELM_REPOSITORY, namespace, "charts")

    async def upgraded() -> dict[str, Any] | None:
        obj = await kube.get(HELM_CHART, "demo", namespace=namespace)
        return obj if obj["status"]["artifact"]["revision"] == "1.2.0" else None

    obj = await eventually(upgraded, what="the chart to follow the repository's new version")
    served = await assert_served(obj["status"]["artifact"])
    assert served == (chart_repo.charts_dir / "demo-1.2.0.tgz").read_bytes()


async def test_unchanged_chart_makes_no_writes_and_no_downloads(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    manager = helm_controller.manager
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo(interval="1s"))
    await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")
    await settled(kube, manager, HELM_REPOSITORY, namespace, "charts")
    await settled(kube, manager, HELM_CHART, namespace, "demo")
    writes = manager.client.total_writes(namespace=namespace)
    requests = chart_repo.request_count
    reconciles = reconcile_count("HelmChart", namespace, "demo")

    async def two_more() -> bool:
        return reconcile_count("HelmChart", namespace, "demo") >= reconciles + 2

    await eventually(two_more, timeout=20, what="two interval reconciles")
    await settled(kube, manager, HELM_CHART, namespace, "demo")
    assert manager.client.total_writes(namespace=namespace) == writes, manager.client.writes
    assert chart_repo.request_count == requests  # the stored chart is current: no download


async def test_missing_chart_stalls_and_keeps_the_artifact_served(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo())
    good = await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")

    await kube.patch_merge(HELM_CHART, "demo", {"spec": {"chart": "nope"}}, namespace=namespace)

    obj = await failing(
        kube,
        HELM_CHART,
        namespace,
        "demo",
        "InvalidChartReference",
        fragment="no chart named 'nope' in the repository index",
        stalled=True,
    )
    assert obj["status"]["artifact"] == good["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])


async def test_a_stalled_chart_recovers_when_the_repository_gets_the_chart(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "later", from_repo("later"))
    await failing(
        kube,
        HELM_CHART,
        namespace,
        "later",
        "InvalidChartReference",
        fragment="no chart named 'later'",
        stalled=True,
    )
    chart_repo.add_chart("later", "0.1.0")

    await request_reconcile(kube, HELM_REPOSITORY, namespace, "charts")

    obj = await wait_ready(kube, HELM_CHART, namespace, "later", status="True", timeout=15)
    assert obj["status"]["artifact"]["revision"] == "0.1.0"
    assert condition(obj, "Stalled") is None
    assert condition(obj, "FetchFailed") is None


async def test_no_version_matching_the_range_stalls_with_the_versions_available(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo(version=">=5.0.0"))

    await failing(
        kube,
        HELM_CHART,
        namespace,
        "demo",
        "InvalidChartReference",
        fragment="no 'demo' chart with version matching '>=5.0.0' found",
        stalled=True,
    )


async def test_archive_not_matching_the_index_digest_is_refused(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    index = yaml.safe_load((chart_repo.charts_dir / "index.yaml").read_text())
    for entry in index["entries"]["demo"]:
        entry["digest"] = "0" * 64
    chart_repo.write_index(yaml.safe_dump(index))
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo())

    obj = await failing(
        kube,
        HELM_CHART,
        namespace,
        "demo",
        "ChartPullError",
        fragment=f"but the repository index lists sha256:{'0' * 64}",
    )
    assert "artifact" not in obj["status"]


async def test_pass_credentials_sends_them_to_another_chart_host(
    kube: KubeClient, namespace: str, helm_controller: HelmController
) -> None:
    with (
        ChartRepository(username=USER, password=PASSWORD) as index_host,
        ChartRepository(username=USER, password=PASSWORD) as chart_host,
    ):
        chart_host.add_chart("demo", "1.0.0")
        index = yaml.safe_load((chart_host.charts_dir / "index.yaml").read_text())
        index["entries"]["demo"][0]["urls"] = [f"{chart_host.url}/demo-1.0.0.tgz"]
        index_host.write_index(yaml.safe_dump(index))
        await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
        for name, passing in (("kept", False), ("passed", True)):
            await create_helm_repository(kube, namespace, name, {
                "url": index_host.url, "secretRef": {"name": "creds"}, "passCredentials": passing,
            })  # fmt: skip
            await create_helm_chart(kube, namespace, name, {
                "chart": "demo", "sourceRef": {"kind": "HelmRepository", "name": name},
            })  # fmt: skip

        await wait_ready(kube, HELM_CHART, namespace, "passed", status="True")
        await failing(kube, HELM_CHART, namespace, "kept", "ChartPullError", fragment="401")


async def test_values_files_in_the_chart_are_merged_and_the_revision_carries_the_generation(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    tmp_path: Path,
) -> None:
    with ChartRepository() as repo:
        source = tmp_path / "src" / "valued"
        (source / "templates").mkdir(parents=True)
        (source / "Chart.yaml").write_text("apiVersion: v2\nname: valued\nversion: 1.0.0\n")
        (source / "values.yaml").write_text("greeting: hello\nnested:\n  a: 1\n  b: 2\n")
        (source / "values-prod.yaml").write_text("nested:\n  b: 20\nlist: [x]\n")
        (source / "templates" / "cm.yaml").write_text(TEMPLATE)
        helm.package(source, destination=repo.charts_dir)
        helm.repo_index_generate(repo.charts_dir)
        await ready_repository(kube, namespace, repo.url)
        await create_helm_chart(kube, namespace, "valued", from_repo(
            "valued", valuesFiles=["values.yaml", "values-prod.yaml"],
        ))  # fmt: skip

        obj = await wait_ready(kube, HELM_CHART, namespace, "valued", status="True")

    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == "1.0.0+1"
    ready = condition(obj, "Ready")
    assert ready is not None and ready["reason"] == "ChartPackageSucceeded"
    assert ready["message"] == (
        "packaged 'valued' chart with version '1.0.0+1' and merged values files "
        "[values.yaml values-prod.yaml]"
    )
    assert obj["status"]["observedValuesFiles"] == ["values.yaml", "values-prod.yaml"]
    version, values = chart_values(await assert_served(artifact), tmp_path)
    assert version == "1.0.0+1"
    assert values == {"greeting": "hello", "nested": {"a": 1, "b": 20}, "list": ["x"]}


async def test_missing_values_file_stalls_unless_missing_files_are_ignored(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo())
    good = await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")

    await kube.patch_merge(
        HELM_CHART,
        "demo",
        {"spec": {"valuesFiles": ["values.yaml", "values-absent.yaml"]}},
        namespace=namespace,
    )

    obj = await failing(
        kube,
        HELM_CHART,
        namespace,
        "demo",
        "ValuesFilesError",
        fragment="no values file found at path 'values-absent.yaml'",
        negative="BuildFailed",
        stalled=True,
    )
    assert obj["status"]["artifact"] == good["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])

    await kube.patch_merge(
        HELM_CHART, "demo", {"spec": {"ignoreMissingValuesFiles": True}}, namespace=namespace
    )

    obj = await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")
    assert obj["status"]["artifact"]["revision"] == f"1.1.0+{obj['metadata']['generation']}"
    assert obj["status"]["observedValuesFiles"] == ["values.yaml"]
    assert condition(obj, "BuildFailed") is None
    assert condition(obj, "Stalled") is None


async def test_missing_source_is_reported_and_retried(
    kube: KubeClient, namespace: str, helm_controller: HelmController
) -> None:
    await create_helm_chart(kube, namespace, "demo", from_repo())

    await failing(
        kube,
        HELM_CHART,
        namespace,
        "demo",
        "SourceUnavailable",
        fragment=f"HelmRepository '{namespace}/charts' not found",
    )


# -- from a GitRepository ----------------------------------------------------------------------
@pytest.fixture
async def git_chart(
    kube: KubeClient, namespace: str, git_server: GitServer, helm_controller: HelmController
) -> str:
    """A Git repository holding chart ``app`` at ``charts/app`` and a values overlay."""
    repo = f"chart-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "charts/app/Chart.yaml": CHART_YAML,
        "charts/app/values.yaml": "replicas: 1\nimage:\n  tag: v1\n  pull: Always\n",
        "charts/app/templates/cm.yaml": TEMPLATE,
        "env/prod.yaml": "image:\n  tag: v2\n",
    })  # fmt: skip
    await create_secret(kube, namespace, "git", {"username": GIT_USER, "password": GIT_PASSWORD})
    await create_git_repository(kube, namespace, "source", {
        "url": git_server.http_url(repo), "secretRef": {"name": "git"},
    })  # fmt: skip
    return repo


def from_git(**spec: Any) -> dict[str, Any]:
    return {
        "chart": "./charts/app",
        "sourceRef": {"kind": "GitRepository", "name": "source"},
        **spec,
    }


async def test_chart_from_a_git_path_is_packaged_with_values_files_from_the_source_root(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    git_chart: str,
    tmp_path: Path,
) -> None:
    await create_helm_chart(kube, namespace, "app", from_git(
        valuesFiles=["charts/app/values.yaml", "env/prod.yaml"],
    ))  # fmt: skip

    obj = await wait_ready(kube, HELM_CHART, namespace, "app", status="True")

    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == "0.1.0+1"
    ready = condition(obj, "Ready")
    assert ready is not None and ready["reason"] == "ChartPackageSucceeded"
    git = await kube.get(GIT_REPOSITORY, "source", namespace=namespace)
    assert obj["status"]["observedSourceArtifactRevision"] == git["status"]["artifact"]["revision"]
    version, values = chart_values(await assert_served(artifact), tmp_path)
    assert version == "0.1.0+1"
    assert values == {"replicas": 1, "image": {"tag": "v2", "pull": "Always"}}
    assert_kstatus(obj)


async def test_revision_strategy_follows_new_commits_and_chart_version_does_not(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    helm_controller: HelmController,
    git_chart: str,
) -> None:
    await create_helm_chart(kube, namespace, "by-revision", from_git(reconcileStrategy="Revision"))
    await create_helm_chart(kube, namespace, "by-version", from_git())
    first = await wait_ready(kube, HELM_CHART, namespace, "by-revision", status="True")
    pinned = await wait_ready(kube, HELM_CHART, namespace, "by-version", status="True")
    head = git_server.head(git_chart)
    assert first["status"]["artifact"]["revision"] == f"0.1.0+{head[:12]}"
    assert pinned["status"]["artifact"]["revision"] == "0.1.0"

    commit = git_server.commit(git_chart, {"charts/app/values.yaml": "replicas: 3\n"})
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "source")

    async def followed() -> dict[str, Any] | None:
        obj = await kube.get(HELM_CHART, "by-revision", namespace=namespace)
        revision = obj["status"]["artifact"]["revision"]
        return obj if revision == f"0.1.0+{commit[:12]}" else None

    await eventually(followed, what="the Revision chart to follow the new commit")

    async def observed() -> dict[str, Any] | None:
        obj = await kube.get(HELM_CHART, "by-version", namespace=namespace)
        revision = obj["status"].get("observedSourceArtifactRevision", "")
        return obj if revision.endswith(commit) else None

    kept = await eventually(observed, what="the ChartVersion chart to see the new commit")
    assert kept["status"]["artifact"] == pinned["status"]["artifact"]


async def test_chart_waits_for_its_source_artifact_then_builds_at_once(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    helm_controller: HelmController,
) -> None:
    repo = f"later-{namespace[-8:]}"
    await create_secret(kube, namespace, "git", {"username": GIT_USER, "password": GIT_PASSWORD})
    await create_git_repository(kube, namespace, "source", {
        "url": git_server.http_url(repo), "secretRef": {"name": "git"},
    })  # fmt: skip
    await wait_ready(kube, GIT_REPOSITORY, namespace, "source", status="False")
    await create_helm_chart(kube, namespace, "app", from_git())

    obj = await wait_ready(kube, HELM_CHART, namespace, "app", status="False")
    ready = condition(obj, "Ready")
    assert ready is not None and ready["reason"] == "NoSourceArtifact"
    assert ready["message"] == "no artifact available for GitRepository source 'source'"
    assert (condition(obj, "FetchFailed") or {}).get("reason") == "NoSourceArtifact"
    assert condition(obj, "Stalled") is None
    assert_kstatus(obj)
    warnings = [e for e in await events_for(kube, namespace, "app") if e["type"] == "Warning"]
    assert warnings == []  # waiting is not an error

    git_server.create_repo(repo, {
        "charts/app/Chart.yaml": CHART_YAML, "charts/app/templates/cm.yaml": TEMPLATE,
    })  # fmt: skip
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "source")

    obj = await wait_ready(kube, HELM_CHART, namespace, "app", status="True", timeout=15)
    assert obj["status"]["artifact"]["revision"] == "0.1.0"
    assert condition(obj, "FetchFailed") is None


async def test_path_without_a_chart_stalls(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    git_chart: str,
) -> None:
    await create_helm_chart(kube, namespace, "app", from_git(chart="./charts/missing"))

    await failing(
        kube,
        HELM_CHART,
        namespace,
        "app",
        "InvalidChartReference",
        fragment="no chart found at path './charts/missing'",
        stalled=True,
    )


# -- from an OCI HelmRepository ----------------------------------------------------------------
@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry behind basic auth holding chart ``demo`` 1.0.0 and 1.1.0 under ``charts/``."""
    with Registry(username=USER, password=PASSWORD) as server:
        for version in ("1.0.0", "1.1.0"):
            archive = package_chart("demo", version, tmp_path / "oci")
            server.push_chart("charts/demo", archive, version)
        yield server


async def test_chart_from_an_oci_repository_is_pulled_with_the_secret_credentials(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    registry: Registry,
    tmp_path: Path,
) -> None:
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_secret(kube, namespace, "wrong", {"username": USER, "password": "nope"})
    for name, secret in (("good", "creds"), ("bad", "wrong")):
        await create_helm_repository(kube, namespace, name, {
            "url": f"oci://{registry.host}/charts", "type": "oci", "insecure": True,
            "secretRef": {"name": secret},
        })  # fmt: skip
        await create_helm_chart(kube, namespace, name, {
            "chart": "demo", "version": "1.x",
            "sourceRef": {"kind": "HelmRepository", "name": name},
        })  # fmt: skip

    obj = await wait_ready(kube, HELM_CHART, namespace, "good", status="True")

    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == "1.1.0"
    assert (condition(obj, "Ready") or {}).get("reason") == "ChartPullSucceeded"
    served = await assert_served(artifact)
    assert served == (tmp_path / "oci" / "demo-1.1.0.tgz").read_bytes()
    await failing(kube, HELM_CHART, namespace, "bad", "AuthenticationFailed", fragment="login")


async def test_deleting_the_chart_removes_its_artifacts(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    storage = helm_controller.runtime.storage
    await ready_repository(kube, namespace, chart_repo.url)
    await create_helm_chart(kube, namespace, "demo", from_repo())
    obj = await wait_ready(kube, HELM_CHART, namespace, "demo", status="True")
    stored = storage.local_path(obj["status"]["artifact"]["path"])
    assert stored.is_file()

    await kube.delete(HELM_CHART, "demo", namespace=namespace)

    async def removed() -> bool:
        gone = await kube.get_or_none(HELM_CHART, "demo", namespace=namespace)
        return gone is None and not stored.exists()

    await eventually(removed, what="the artifact and the object to be gone")

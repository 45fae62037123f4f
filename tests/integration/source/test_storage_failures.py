"""Storage that refuses writes (read-only, full): every source kind says so plainly and retries.

The storage is a real tmpfs mounted for the test, made read-only or filled up under the running
controller: root cannot write through either, so nothing here is simulated. Without the right
to mount (an unprivileged sandbox), the tests are skipped; the sentences themselves are
unit-tested in ``tests/unit/artifacts/test_storage.py``.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import eventually
from tests.integration.source import test_ocirepository as oci_tests
from tests.integration.source.conftest import (
    PASSWORD,
    USER,
    create_git_repository,
    create_secret,
    running_source_controller,
)
from tests.integration.source.test_helmrepository import (
    assert_served,
    create_helm_repository,
    failing,
    request_reconcile,
    wait_ready,
)
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.runtime.manager import Manager
from tide.source.helmchart import HELM_CHART
from tide.source.helmrepository import HELM_REPOSITORY
from tide.source.ocirepository import OCI_REPOSITORY
from tide.source.setup import GIT_REPOSITORY, SourceRuntime
from tide.testing import ChartRepository, ControlPlane, GitServer, Registry

pytestmark = pytest.mark.integration

registry = oci_tests.registry
"""The test registry (module-scoped, from test_ocirepository)."""
STORAGE_FAILED = "StorageOperationFailed"


def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of its own, to make read-only or fill up under the controller."""
    path = tmp_path / "volume"
    path.mkdir()
    mounted = mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        mount("-o", "remount,rw", str(path))
        subprocess.run(["umount", "--lazy", str(path)], check=True)


@pytest_asyncio.fixture(loop_scope="session")
async def controller(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, volume: Path
) -> AsyncIterator[tuple[Manager, SourceRuntime]]:
    """The source controller with its storage on ``volume``."""
    async with running_source_controller(control_plane, kube, namespace, volume) as running:
        yield running
    mount("-o", "remount,rw", str(volume))  # so the finalizers above could delete artifacts


def read_only(volume: Path, *, on: bool) -> None:
    done = mount("-o", "remount,ro" if on else "remount,rw", str(volume))
    assert done.returncode == 0, done.stderr


def fill(volume: Path) -> Path:
    """Write zeros into ``volume`` until the file system refuses: it is then full."""
    filler = volume / "filler"
    with filler.open("wb") as sink:
        try:
            while True:
                sink.write(bytes(1 << 20))
                sink.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


async def artifact_revision(kube: KubeClient, rt: ResourceType, namespace: str, name: str) -> str:
    obj = await kube.get(rt, name, namespace=namespace)
    return str(obj["status"]["artifact"]["revision"])


async def fails_plainly(
    kube: KubeClient, rt: ResourceType, namespace: str, name: str, before: dict[str, Any], why: str
) -> str:
    """Wait for StorageOperationFailed saying ``why``; the previous artifact stays served."""
    obj = await failing(
        kube, rt, namespace, name, STORAGE_FAILED, fragment=why, negative=STORAGE_FAILED
    )
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    message = ready["message"]
    assert "Errno" not in message and "OSError" not in message, message
    assert obj["status"]["artifact"] == before["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])
    return message


async def test_read_only_storage_fails_every_source_kind_plainly_until_it_is_writable(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    registry: Registry,
    controller: tuple[Manager, SourceRuntime],
    volume: Path,
) -> None:
    git_repo = f"ro-{namespace[-8:]}"
    git_server.create_repo(git_repo, {"app.yaml": "v: 1\n"})
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "git", {
        "url": git_server.http_url(git_repo), "secretRef": {"name": "creds"},
    })  # fmt: skip
    oci_repo = oci_tests.repo_name(namespace)
    registry.push_artifact(oci_repo, "v1", {"app.yaml": "v: 1\n"})
    await oci_tests.create_oci_repository(kube, namespace, "oci", {
        "url": f"oci://{registry.host}/{oci_repo}", "insecure": True, "ref": {"tag": "v1"},
    })  # fmt: skip
    with ChartRepository() as charts:
        charts.add_chart("demo", "1.0.0")
        await create_helm_repository(kube, namespace, "charts", {"url": charts.url})
        await kube.create(HELM_CHART, {
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
            "metadata": {"name": "demo", "namespace": namespace},
            "spec": {"interval": "10m", "chart": "demo",
                     "sourceRef": {"kind": "HelmRepository", "name": "charts"}},
        })  # fmt: skip
        kinds = {
            "git": GIT_REPOSITORY, "oci": OCI_REPOSITORY, "charts": HELM_REPOSITORY,
            "demo": HELM_CHART,
        }  # fmt: skip
        before = {
            name: await wait_ready(kube, rt, namespace, name, status="True")
            for name, rt in kinds.items()
        }

        read_only(volume, on=True)
        commit = git_server.commit(git_repo, {"app.yaml": "v: 2\n"})
        registry.push_artifact(oci_repo, "v1", {"app.yaml": "v: 2\n"})
        charts.add_chart("demo", "1.1.0")
        for name, rt in kinds.items():
            await request_reconcile(kube, rt, namespace, name)

        why = f"storage path {volume} is read-only"
        messages = {
            name: await fails_plainly(kube, rt, namespace, name, before[name], why)
            for name, rt in kinds.items()
        }
        assert messages["git"] == f"failed to check out revision 'main@sha1:{commit}': {why}"
        assert messages["charts"].startswith("failed to store artifact for revision 'sha256:")
        assert messages["oci"] == f"failed to pull artifact: {why}"
        assert messages["demo"] == f"failed to build chart: {why}"

        # Retried with backoff, not stalled: once the volume takes writes again, each kind
        # publishes its new revision with no further request.
        read_only(volume, on=False)

        async def recovered() -> bool:
            revisions = {
                name: await artifact_revision(kube, rt, namespace, name)
                for name, rt in kinds.items()
            }
            return (
                revisions["git"] == f"main@sha1:{commit}"
                and revisions["oci"] != before["oci"]["status"]["artifact"]["revision"]
                and revisions["charts"] != before["charts"]["status"]["artifact"]["revision"]
                and revisions["demo"] == "1.1.0"
            )

        await eventually(recovered, timeout=90, what="every source to recover on its own")
        for name, rt in kinds.items():
            await wait_ready(kube, rt, namespace, name, status="True")


async def test_full_storage_names_the_volume_until_space_is_freed(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controller: tuple[Manager, SourceRuntime],
    volume: Path,
) -> None:
    repo = f"full-{namespace[-8:]}"
    git_server.create_repo(repo, {"app.yaml": "v: 1\n"})
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "git", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"},
    })  # fmt: skip
    before = await wait_ready(kube, GIT_REPOSITORY, namespace, "git", status="True")

    filler = fill(volume)
    commit = git_server.commit(repo, {"app.yaml": "v: 2\n", "more.yaml": "x: 1\n" * 1000})
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "git")
    why = f"no space left on device under {volume}"
    message = await fails_plainly(kube, GIT_REPOSITORY, namespace, "git", before, why)
    assert message == f"failed to check out revision 'main@sha1:{commit}': {why}"

    filler.unlink()

    async def recovered() -> bool:
        revision = await artifact_revision(kube, GIT_REPOSITORY, namespace, "git")
        return revision == f"main@sha1:{commit}"

    await eventually(recovered, timeout=90, what="the GitRepository to recover on its own")

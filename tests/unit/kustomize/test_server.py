"""The build server client, against the real server binary: concurrency, errors, restarts.

The binary is compiled from ``src/tide/kustomize/buildserver`` when the cache lacks it (Go is
needed, as for the control plane), so these tests run the program the controller runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.helpers import eventually
from tide.kustomize import server, server_binary
from tide.kustomize.build import BuildOptions, build_async
from tide.kustomize.paths import BuildError
from tide.kustomize.server import BuildServer, KustomizeFailed

pytestmark = [pytest.mark.unit, pytest.mark.timeout(120)]

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  count: '{n}'\n"


@pytest.fixture(scope="session")
def program() -> Path:
    return server_binary.ensure_server()


@pytest_asyncio.fixture
async def build_server(program: Path) -> AsyncIterator[BuildServer]:
    started = BuildServer(program)
    yield started
    await started.close()


def folder(root: Path, name: str, n: int = 0) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "cm.yaml").write_text(CONFIGMAP.format(name=name, n=n))
    (path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    return path


def stuck_folder(root: Path, name: str) -> Path:
    """A folder whose resource is a FIFO: kustomize's read blocks until someone writes it."""
    path = root / name
    path.mkdir()
    os.mkfifo(path / "cm.yaml")
    (path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    return path


async def in_flight(build_server: BuildServer, count: int = 1) -> None:
    """Wait until the running server has ``count`` builds sent and unanswered."""

    async def sent() -> bool:
        connection = build_server._connection
        return connection is not None and len(connection.pending) >= count

    await eventually(sent, timeout=10, what=f"{count} build(s) in flight on the server")


async def stuck_build(
    build_server: BuildServer, tmp_path: Path, name: str, *, timeout: float
) -> asyncio.Task[str]:
    """Start a build that blocks inside kustomize; return it once the server has it."""
    task = asyncio.create_task(build_server.render(stuck_folder(tmp_path, name), timeout=timeout))
    await in_flight(build_server)
    return task


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def write_when_read(fifo: Path, text: str) -> None:
    with fifo.open("w") as writer:  # blocks until kustomize opens it
        writer.write(text)


async def test_concurrent_builds_are_answered_by_one_process(
    build_server: BuildServer, tmp_path: Path
) -> None:
    folders = [folder(tmp_path, f"app-{i}", i) for i in range(12)]
    rendered = await asyncio.gather(*(build_server.render(f, timeout=30) for f in folders))
    for i, yaml in enumerate(rendered):
        data = f'data:\n  count: "{i}"\n'
        assert yaml == f"apiVersion: v1\n{data}kind: ConfigMap\nmetadata:\n  name: app-{i}\n"
    assert build_server.starts == 1
    assert build_server.version == server_binary.KUSTOMIZE_API_VERSION


async def test_the_server_starts_on_first_use_only(program: Path, tmp_path: Path) -> None:
    lazy = BuildServer(program)
    assert lazy.pid is None and lazy.starts == 0
    await lazy.render(folder(tmp_path, "a"), timeout=30)
    assert lazy.pid is not None
    await lazy.close()
    assert lazy.pid is None


async def test_kustomizes_own_error_comes_back_as_written(
    build_server: BuildServer, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(KustomizeFailed) as caught:
        await build_server.render(app, timeout=30)
    assert str(caught.value).startswith("accumulating resources: accumulation err=")
    assert f"{app}/missing.yaml" in str(caught.value)
    assert "no such file or directory" in str(caught.value)


async def test_files_handed_over_are_read_as_if_on_disk_and_never_written(
    build_server: BuildServer, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "cm.yaml").write_text(CONFIGMAP.format(name="laid", n=1))
    generated = {str(app / "kustomization.yaml"): "resources: [cm.yaml]\n"}
    yaml = await build_server.render(app, files=generated, timeout=30)
    assert "name: laid" in yaml
    assert sorted(p.name for p in app.iterdir()) == ["cm.yaml"]


async def test_a_killed_server_is_replaced_on_the_next_build(
    build_server: BuildServer, tmp_path: Path
) -> None:
    await build_server.render(folder(tmp_path, "a"), timeout=30)
    first = build_server.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    yaml = await build_server.render(folder(tmp_path, "b"), timeout=30)
    assert "name: b" in yaml
    assert build_server.starts == 2 and build_server.pid not in (None, first)


async def test_a_build_past_its_timeout_fails_and_the_builds_beside_it_are_sent_again(
    build_server: BuildServer, tmp_path: Path
) -> None:
    stuck, waiting = stuck_folder(tmp_path, "stuck"), stuck_folder(tmp_path, "waiting")
    innocent = asyncio.create_task(build_server.render(waiting, timeout=60))
    with pytest.raises(BuildError) as caught:
        await build_server.render(stuck, timeout=1)
    assert str(caught.value) == "kustomize build timed out after 1s"
    await asyncio.to_thread(write_when_read, waiting / "cm.yaml", CONFIGMAP.format(name="w", n=2))
    assert "name: w" in await innocent
    assert build_server.starts == 2


async def test_a_cancelled_build_leaves_the_server_running(
    build_server: BuildServer, tmp_path: Path
) -> None:
    task = await stuck_build(build_server, tmp_path, "stuck", timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = build_server.pid
    assert "name: after" in await build_server.render(folder(tmp_path, "after"), timeout=30)
    assert build_server.pid == pid and build_server.starts == 1


async def test_a_timeout_kills_the_server_the_build_ran_on_not_the_one_replacing_it(
    build_server: BuildServer, tmp_path: Path
) -> None:
    late = await stuck_build(build_server, tmp_path, "late", timeout=3)
    first = build_server._connection
    assert first is not None
    # The server is replaced before ``late`` hears its old one is gone: the window between a
    # kill and its reader failing the builds in flight, held open here.
    build_server._connection = None
    await build_server.render(folder(tmp_path, "fresh"), timeout=30)
    second = build_server.pid
    waiting = stuck_folder(tmp_path, "waiting")
    healthy = asyncio.create_task(build_server.render(waiting, timeout=60))
    await in_flight(build_server)
    with pytest.raises(BuildError, match="timed out after 3s"):
        await late
    assert first.process.returncode is not None
    assert build_server.pid == second and second is not None and alive(second)
    await asyncio.to_thread(write_when_read, waiting / "cm.yaml", CONFIGMAP.format(name="h", n=1))
    assert "name: h" in await healthy
    assert build_server.starts == 2


async def test_a_closed_server_fails_its_builds_in_flight_and_starts_no_other(
    build_server: BuildServer, tmp_path: Path
) -> None:
    stuck = await stuck_build(build_server, tmp_path, "s", timeout=5)
    await build_server.close()
    with pytest.raises(BuildError) as caught:
        await stuck
    assert str(caught.value) == "kustomize build server was stopped: the controllers are stopping"
    with pytest.raises(BuildError, match="was stopped"):
        await build_server.render(folder(tmp_path, "later"), timeout=5)
    assert build_server.starts == 1 and build_server.pid is None


def slow_to_start(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in server that never says it is ready; it writes its pid where returned."""
    pid_file, program = tmp_path / "pid", tmp_path / "slow-server"
    program.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    program.chmod(0o755)
    return program, pid_file


async def test_a_build_timing_out_while_the_server_starts_leaves_no_process(
    tmp_path: Path,
) -> None:
    program, pid_file = slow_to_start(tmp_path)
    with pytest.raises(BuildError, match="timed out after 1s"):
        await BuildServer(program).render(folder(tmp_path, "a"), timeout=1)
    assert not alive(int(pid_file.read_text()))


async def test_a_build_cancelled_while_the_server_starts_leaves_no_process(
    tmp_path: Path,
) -> None:
    program, pid_file = slow_to_start(tmp_path)
    task = asyncio.create_task(BuildServer(program).render(folder(tmp_path, "a"), timeout=60))

    async def started() -> bool:
        return pid_file.exists() and bool(pid_file.read_text().strip())

    await eventually(started, timeout=10, what="the stand-in server to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alive(int(pid_file.read_text()))


async def test_build_async_reads_a_read_only_artifact_without_writing_into_it(
    build_server: BuildServer, tmp_path: Path
) -> None:
    root = tmp_path / "artifact"
    (root / "plain").mkdir(parents=True)
    (root / "plain" / "cm.yaml").write_text(CONFIGMAP.format(name="plain", n=3))
    for path in (root / "plain", root):
        path.chmod(0o555)
    try:
        options = BuildOptions(path="plain", name_prefix="p-")
        objects = await build_async(root, options, server=build_server)
    finally:
        for path in (root, root / "plain"):
            path.chmod(0o755)
    assert [o["metadata"]["name"] for o in objects] == ["p-plain"]
    assert sorted(p.name for p in (root / "plain").iterdir()) == ["cm.yaml"]


async def test_build_async_names_artifact_paths_in_kustomizes_errors(
    build_server: BuildServer, tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [gone.yaml]\n")
    with pytest.raises(BuildError) as caught:
        await build_async(tmp_path, BuildOptions(path="app"), server=build_server)
    message = str(caught.value)
    assert message.startswith("kustomize build failed: accumulating resources:")
    assert "app/gone.yaml" in message and str(tmp_path) not in message


async def test_without_a_binary_builds_fall_back_to_kubectl_and_say_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(server_binary.ENV, "kubectl")
    monkeypatch.setattr(server, "_fallback_logged", False)
    with caplog.at_level(logging.WARNING, logger=server.__name__):
        assert server.find_program() is None
        assert server.find_program() is None
    said = [r.getMessage() for r in caplog.records if r.name == server.__name__]
    assert len(said) == 1
    assert "building with kubectl kustomize" in said[0]

"""ControlPlane's state file: what it records is stopped later, and only if it is still ours.

Real servers are replaced by ``sleep``: the state file does not care what a process runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tide.testing import ControlPlane, controlplane
from tide.testing._process import ServerProcess

pytestmark = pytest.mark.unit


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def _identity(pid: int) -> tuple[int, str]:
    start_time = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    return start_time, os.readlink(f"/proc/{pid}/exe")


def write_state(folder: Path, *processes: ServerProcess, complete: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "server": "https://127.0.0.1:1",
        "workloads": False,
        "complete": complete,
        "processes": [p.record() for p in processes],
    }
    (folder / "state.json").write_text(json.dumps(state))


def test_each_spawned_process_is_recorded_before_the_start_goes_on(tmp_path: Path) -> None:
    plane = ControlPlane(data_dir=tmp_path, detach=True)
    try:
        etcd = plane._spawn("etcd", ["sleep", "60"])

        state = json.loads((tmp_path / "state.json").read_text())
        assert state["complete"] is False
        assert state["processes"] == [etcd.record()]
        assert etcd.record()["start_time"] and etcd.record()["exe"]
    finally:
        plane.stop()


def test_stop_recorded_stops_what_a_killed_start_left_behind(tmp_path: Path) -> None:
    orphan = ServerProcess.start("etcd", ["sleep", "60"], log=tmp_path / "etcd.log")
    write_state(tmp_path / "dev", orphan, complete=False)

    assert ControlPlane.attach(tmp_path / "dev") is None  # a half-made plane is not usable
    assert ControlPlane.stop_recorded(tmp_path / "dev") == 1

    assert not orphan.alive()
    assert not (tmp_path / "dev").exists()


def test_stop_recorded_leaves_a_reused_pid_alone(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    # After a reboot the recorded pid names someone else: same number, even the same program,
    # but another start time.
    start_time, exe = _identity(stranger.pid)
    reused = ServerProcess("etcd", stranger.pid, tmp_path / "etcd.log", start_time - 1, exe)
    write_state(tmp_path / "dev", reused)

    assert ControlPlane.attach(tmp_path / "dev") is None
    assert ControlPlane.stop_recorded(tmp_path / "dev") == 0

    time.sleep(0.1)
    assert stranger.poll() is None, "stop_recorded killed an unrelated process"


def test_attach_to_a_folder_whose_pki_is_gone_finds_nothing(tmp_path: Path) -> None:
    server = ServerProcess.start("kube-apiserver", ["sleep", "60"], log=tmp_path / "api.log")
    try:
        write_state(tmp_path / "dev", server)

        assert ControlPlane.attach(tmp_path / "dev") is None
    finally:
        server.stop(timeout=2)


def test_starting_on_a_folder_stops_the_servers_it_records_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orphan = ServerProcess.start("etcd", ["sleep", "60"], log=tmp_path / "etcd.log")
    write_state(tmp_path / "dev", orphan, complete=False)

    def no_etcd(*_: object) -> None:
        raise RuntimeError("etcd start skipped in this test")

    monkeypatch.setattr(controlplane, "ensure_binaries", lambda: None)
    monkeypatch.setattr(ControlPlane, "_start_etcd", no_etcd)
    with pytest.raises(RuntimeError, match="skipped"):
        ControlPlane(data_dir=tmp_path / "dev", detach=True).start()

    assert not orphan.alive()
    assert not (tmp_path / "dev" / "state.json").exists()


def test_a_state_file_that_does_not_parse_is_treated_as_empty(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "state.json").write_text('{"processes": [{"name": "etcd"')

    assert ControlPlane.attach(tmp_path / "dev") is None
    assert ControlPlane.stop_recorded(tmp_path / "dev") == 0

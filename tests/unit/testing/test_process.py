"""ServerProcess: a recorded pid is signalled only while it is still ours; children can die with us.

These start ``sleep`` and a small Python parent, nothing else: fast, and no servers involved.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tide.testing._process import ServerProcess, pid_alive

pytestmark = pytest.mark.unit

SLEEP = os.path.realpath(shutil.which("sleep") or "/bin/sleep")


def eventually(probe: Callable[[], bool], *, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.02)
    return probe()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess.start("sleeper", ["sleep", "60"], log=tmp_path / "sleeper.log")
    yield process
    process.stop(timeout=2)


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process leading its own group, as a reused pid would be."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def test_a_started_server_is_recorded_with_its_start_time_and_executable(
    server: ServerProcess,
) -> None:
    boot_ticks = int(Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()[19])

    assert server.start_time == boot_ticks
    assert server.exe == SLEEP
    assert server.matches() and server.alive()


def test_a_record_survives_a_round_trip_through_json(server: ServerProcess) -> None:
    again = ServerProcess.from_record(json.loads(json.dumps(server.record())))

    assert again == server
    assert again.alive()


@pytest.mark.parametrize(
    "lie",
    [{"start_time": 1}, {"start_time": None, "exe": None}],
    ids=["other-start-time", "no-identity-recorded"],
)
def test_a_pid_that_now_names_another_process_is_never_signalled(
    stranger: subprocess.Popen[bytes], tmp_path: Path, lie: dict[str, object]
) -> None:
    honest = ServerProcess("etcd", stranger.pid, tmp_path / "etcd.log", *_identity(stranger.pid))
    assert honest.matches()
    record = replace(honest, **lie)  # what a state file from before a reboot would say

    assert not record.matches()
    assert not record.alive()
    record.stop(timeout=0.5)
    assert stranger.poll() is None, "an unrelated process was killed"


def test_stop_ends_the_server_and_its_process_group(tmp_path: Path) -> None:
    script = "sleep 60 & wait"
    process = ServerProcess.start("shell", ["sh", "-c", script], log=tmp_path / "shell.log")
    assert eventually(lambda: len(_group(process.pid)) == 2)
    members = _group(process.pid)

    process.stop(timeout=5)

    assert not process.alive()
    # stop() waits for the leader only; the group's other members act on the signal on their own.
    assert eventually(lambda: not any(pid_alive(pid) for pid in members), timeout=5)


def test_a_server_that_exited_counts_as_gone_and_stop_is_harmless(tmp_path: Path) -> None:
    process = ServerProcess.start("quick", ["true"], log=tmp_path / "quick.log")

    assert eventually(lambda: not process.alive())
    process.stop(timeout=1)


@pytest.mark.parametrize("die_with_parent", [True, False])
def test_a_server_dies_with_its_killed_parent_only_when_asked(
    tmp_path: Path, die_with_parent: bool
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(tmp_path / "child.log"), str(die_with_parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = ServerProcess.from_record(json.loads(parent.stdout.readline()))
    try:
        assert child.alive()
        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can help
        parent.wait()

        died = eventually(lambda: not child.alive(), timeout=3)

        assert died is die_with_parent
    finally:
        child.stop(timeout=2)


def test_a_server_dies_with_the_thread_that_started_it_not_just_the_process(
    tmp_path: Path,
) -> None:
    started: list[ServerProcess] = []

    def start() -> None:
        log = tmp_path / "child.log"
        started.append(ServerProcess.start("child", ["sleep", "60"], log=log, die_with_parent=True))

    worker = threading.Thread(target=start)
    worker.start()
    worker.join()
    try:
        # The documented caveat of PR_SET_PDEATHSIG: hence "start from a long-lived thread".
        assert eventually(lambda: not started[0].alive(), timeout=3)
    finally:
        started[0].stop(timeout=2)


_PARENT = """
import json, sys, time
from pathlib import Path
from tide.testing._process import ServerProcess

child = ServerProcess.start(
    "child", ["sleep", "60"], log=Path(sys.argv[1]), die_with_parent=sys.argv[2] == "True"
)
print(json.dumps(child.record()), flush=True)
time.sleep(60)
"""


def _identity(pid: int) -> tuple[int, str]:
    start_time = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    return start_time, os.readlink(f"/proc/{pid}/exe")


def _group(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members

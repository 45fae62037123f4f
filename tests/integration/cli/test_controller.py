"""``tide controller`` as users run it: a failure to start is one clear line, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

FLAGS = {
    "metrics": "--metrics-addr",
    "health": "--health-addr",
    "storage": "--storage-addr",
    "receivers": "--receiver-addr",
}


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port that another program listens on for the whole test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("server", [*sorted(FLAGS), "receiverAddr"])
def test_a_port_in_use_ends_the_controller_with_one_line_and_exit_code_1(
    control_plane: ControlPlane,
    crds: list[str],
    namespace: str,
    tmp_path: Path,
    held_port: int,
    server: str,
) -> None:
    addresses = {flag: "127.0.0.1:0" for flag in FLAGS.values()}
    if server == "receiverAddr":  # Flux's spelling of --receiver-addr
        del addresses[FLAGS["receivers"]]
        addresses["--receiverAddr"], server = f"127.0.0.1:{held_port}", "receivers"
    else:
        addresses[FLAGS[server]] = f"127.0.0.1:{held_port}"
    command = [
        sys.executable, "-m", "tide.cli.main", "controller",
        "--kubeconfig", str(control_plane.kubeconfig),
        "--leader-election-namespace", namespace,
        "--storage-path", str(tmp_path / "storage"),
        *(part for flag, address in addresses.items() for part in (flag, address)),
    ]  # fmt: skip

    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert finished.returncode == 1, finished.stderr
    assert "Traceback" not in finished.stderr
    assert finished.stderr.strip().splitlines() == [
        f"tide: cannot listen on 127.0.0.1:{held_port} for {server}: address already in use"
    ]

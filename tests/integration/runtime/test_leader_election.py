"""Two ``tide controller`` processes: only the leader reconciles; a standby takes over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.helpers import eventually
from tests.integration.runtime.test_lifecycle import create_receiver, create_token, receiver
from tests.integration.runtime.test_lifecycle import wait_ready as wait_receiver_ready
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.testing import ControlPlane
from tide.testing._process import free_port

pytestmark = pytest.mark.integration

LEASE_SECONDS = 4.0
LEASE_NAME = "tide-controller-leader-election"


@dataclass
class Replica:
    """One ``tide controller`` process and its probe ports."""

    process: subprocess.Popen[bytes]
    metrics_port: int
    health_port: int
    log: Path

    def metrics(self) -> str:
        """Return the replica's metrics; an unreachable endpoint fails loudly, never reads "0"."""
        response = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5)
        response.raise_for_status()
        return response.text

    def ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.health_port}/readyz"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def leads(self) -> bool:
        """Tell whether this replica runs controllers (only the leader starts workers)."""
        return 'controller_runtime_active_workers{controller="receiver"}' in self.metrics()

    def reconciles(self) -> float:
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith('controller_runtime_reconcile_total{controller="receiver"'):
                total += float(line.rsplit(" ", 1)[1])
        return total


@pytest.fixture
def replicas(
    control_plane: ControlPlane, crds: list[str], namespace: str, tmp_path: Path
) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    for index in range(2):
        metrics_port, health_port = free_port(), free_port()
        log = tmp_path / f"replica-{index}.log"
        command = [
            sys.executable, "-m", "tide.cli.main", "controller",
            "--kubeconfig", str(control_plane.kubeconfig),
            "--metrics-addr", f"127.0.0.1:{metrics_port}",
            "--health-addr", f"127.0.0.1:{health_port}",
            "--leader-election-namespace", namespace,
            "--leader-election-lease-duration", f"{LEASE_SECONDS:g}s",
            "--leader-election-renew-deadline", "3s",
            "--leader-election-retry-period", "500ms",
            "--storage-path", str(tmp_path / f"storage-{index}"),
            "--storage-addr", "127.0.0.1:0",
            "--events-addr", "127.0.0.1:0",
            "--receiver-addr", "127.0.0.1:0",
        ]  # fmt: skip
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append(Replica(process, metrics_port, health_port, log))
    yield started
    for replica in started:
        if replica.process.poll() is None:
            os.killpg(replica.process.pid, signal.SIGKILL)
            replica.process.wait()


async def test_only_the_leader_reconciles_and_a_standby_takes_over_when_it_dies(
    kube: KubeClient, namespace: str, replicas: list[Replica]
) -> None:
    async def one_leader() -> list[Replica] | None:
        if not all(r.ready() for r in replicas) or any(
            r.process.poll() is not None for r in replicas
        ):
            return None
        leaders = [r for r in replicas if r.leads()]
        return leaders if len(leaders) == 1 else None

    leader = (await eventually(one_leader, timeout=60, what="exactly one leader"))[0]
    standby = next(r for r in replicas if r is not leader)

    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("first"))
    await wait_receiver_ready(kube, namespace, "first")
    assert leader.reconciles() >= 1
    assert standby.reconciles() == 0
    assert not standby.leads()

    os.killpg(leader.process.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    leader.process.wait()
    await create_receiver(kube, namespace, receiver("second"))
    await wait_receiver_ready(kube, namespace, "second")
    handover = time.monotonic() - killed_at

    # The standby waits out the lease it saw last renewed (4 s) and retries every 0.5 s.
    assert handover < LEASE_SECONDS + 3.0, f"handover took {handover:.1f}s"
    assert standby.leads()
    assert standby.reconciles() >= 1
    lease = await kube.get(resources.LEASE, LEASE_NAME, namespace=namespace)
    assert lease["spec"]["leaseTransitions"] >= 1


async def test_sigterm_stops_gracefully_and_releases_the_lease(
    kube: KubeClient, namespace: str, replicas: list[Replica]
) -> None:
    async def someone_leads() -> Replica | None:
        return next((r for r in replicas if r.ready() and r.leads()), None)

    leader = await eventually(someone_leads, timeout=60, what="a leader")
    standby = next(r for r in replicas if r is not leader)
    held = await kube.get(resources.LEASE, LEASE_NAME, namespace=namespace)
    leader_identity = held["spec"]["holderIdentity"]
    terminated_at = time.monotonic()
    os.killpg(leader.process.pid, signal.SIGTERM)
    code = await asyncio.to_thread(leader.process.wait, 20)
    assert code == 0, leader.log.read_text()[-2000:]

    # Released, not expired: the moment the leader has exited, the Lease no longer names it
    # (it is either released — no holder, one second long — or already the standby's).
    spec = (await kube.get(resources.LEASE, LEASE_NAME, namespace=namespace))["spec"]
    assert spec.get("holderIdentity") != leader_identity
    if not spec.get("holderIdentity"):
        assert spec["leaseDurationSeconds"] == 1

    # ...so the standby leads well before a lease duration has passed since SIGTERM.
    async def standby_leads() -> bool:
        return standby.leads()

    await eventually(standby_leads, timeout=LEASE_SECONDS + 5, what="the standby to lead")
    assert time.monotonic() - terminated_at < LEASE_SECONDS - 1

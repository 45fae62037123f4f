"""LeaderElector against a real Lease: one holder, takeover after expiry, release, and loss."""

from __future__ import annotations

import asyncio
import time

import pytest

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.leader import LeaderElector, LeaseConfig
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

TIMINGS = {"lease_duration": 2.0, "renew_deadline": 1.5, "retry_period": 0.2}


def config(namespace: str, identity: str) -> LeaseConfig:
    return LeaseConfig(namespace=namespace, name="leader", identity=identity, **TIMINGS)


async def holder(kube: KubeClient, namespace: str) -> str | None:
    lease = await kube.get(resources.LEASE, "leader", namespace=namespace)
    return lease["spec"].get("holderIdentity")


async def test_a_standby_waits_out_the_lease_then_takes_over(
    control_plane: ControlPlane, kube: KubeClient, namespace: str
) -> None:
    first = LeaderElector(kube, config(namespace, "first"))
    second = LeaderElector(kube, config(namespace, "second"))
    await first.acquire()
    assert await holder(kube, namespace) == "first"

    started = time.monotonic()
    # "first" never renews (as if its process froze); "second" must wait a lease duration.
    await asyncio.wait_for(second.acquire(), timeout=10)
    waited = time.monotonic() - started
    assert TIMINGS["lease_duration"] <= waited < TIMINGS["lease_duration"] + 2
    lease = await kube.get(resources.LEASE, "leader", namespace=namespace)
    assert lease["spec"]["holderIdentity"] == "second"
    assert lease["spec"]["leaseTransitions"] == 1


async def test_a_renewing_holder_keeps_the_lease(
    control_plane: ControlPlane, kube: KubeClient, namespace: str
) -> None:
    first = LeaderElector(kube, config(namespace, "first"))
    second = LeaderElector(kube, config(namespace, "second"))
    await first.acquire()
    renewing = asyncio.create_task(first.hold())
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(second.acquire(), timeout=TIMINGS["lease_duration"] * 2)
        assert await holder(kube, namespace) == "first"
    finally:
        renewing.cancel()


async def test_release_hands_over_at_once(
    control_plane: ControlPlane, kube: KubeClient, namespace: str
) -> None:
    first = LeaderElector(kube, config(namespace, "first"))
    second = LeaderElector(kube, config(namespace, "second"))
    await first.acquire()
    await first.release()
    lease = await kube.get(resources.LEASE, "leader", namespace=namespace)
    assert lease["spec"].get("holderIdentity") is None
    assert lease["spec"]["leaseDurationSeconds"] == 1
    started = time.monotonic()
    await asyncio.wait_for(second.acquire(), timeout=5)
    assert time.monotonic() - started < 1.5


async def test_hold_returns_when_another_candidate_took_the_lease(
    control_plane: ControlPlane, kube: KubeClient, namespace: str
) -> None:
    first = LeaderElector(kube, config(namespace, "first"))
    await first.acquire()
    lease = await kube.get(resources.LEASE, "leader", namespace=namespace)
    lease["spec"]["holderIdentity"] = "usurper"
    await kube.replace(resources.LEASE, lease)
    await asyncio.wait_for(first.hold(), timeout=5)
    assert not first.is_leader


@pytest.mark.parametrize(
    ("timings", "message"),
    [
        ({"lease_duration": 10, "renew_deadline": 10, "retry_period": 2}, "greater than the renew"),
        ({"lease_duration": 10, "renew_deadline": 2, "retry_period": 2}, "times the retry period"),
        ({"lease_duration": 0.5, "renew_deadline": 0.2, "retry_period": 0.1}, "at least 1s"),
    ],
)
def test_timings_that_cannot_work_are_refused(timings: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LeaseConfig(namespace="n", name="l", identity="i", **timings)

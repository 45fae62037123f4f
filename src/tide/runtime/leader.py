"""Leader election on a ``coordination.k8s.io/v1`` Lease, so only one replica reconciles.

The holder renews the Lease every ``retry_period``. A candidate takes the Lease over once it has
seen the same holder and renew time unchanged for ``lease_duration`` of its *own* clock (as
client-go does), so clock skew between machines cannot cut a holder's term short. Writes use the
Lease's resourceVersion, so two candidates can never both win the same round.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeConflict, KubeError, KubeNotFound

__all__ = ["LeaderElector", "LeaseConfig"]

log = logging.getLogger(__name__)

_JITTER = 1.2
"""Retries wait up to 20% longer than the retry period, so candidates do not move in step."""


@dataclass(frozen=True)
class LeaseConfig:
    """Where the Lease lives and its timings.

    Attributes:
        namespace: the Lease's namespace.
        name: the Lease's name.
        identity: this candidate's name, unique per process.
        lease_duration: seconds a standby waits on an unrenewed Lease before taking it (35, as
            Flux's ``--leader-election-lease-duration``).
        renew_deadline: seconds the holder keeps trying to renew before giving up (30).
        retry_period: seconds between attempts to acquire or renew (5).

    Raises:
        ValueError: the timings cannot work together (client-go's rules): the lease must outlast
            the renew deadline, which must leave room for more than one retry.
    """

    namespace: str
    name: str
    identity: str
    lease_duration: float = 35.0
    renew_deadline: float = 30.0
    retry_period: float = 5.0

    def __post_init__(self) -> None:
        if self.lease_duration < 1:
            raise ValueError(f"lease duration {self.lease_duration:g}s must be at least 1s")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"lease duration {self.lease_duration:g}s must be greater than the renew "
                f"deadline {self.renew_deadline:g}s"
            )
        if self.renew_deadline <= self.retry_period * _JITTER:
            raise ValueError(
                f"renew deadline {self.renew_deadline:g}s must be greater than "
                f"{_JITTER:g} times the retry period {self.retry_period:g}s"
            )


def _micro_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Acquire, hold and release one Lease."""

    def __init__(self, client: KubeClient, config: LeaseConfig) -> None:
        self._client = client
        self.config = config
        self.is_leader = False
        self._observed: tuple[Any, Any] | None = None
        self._observed_at = 0.0
        self._held_by_other = False

    async def acquire(self) -> None:
        """Return once this candidate holds the Lease."""
        while not await self._try_acquire_or_renew():
            await asyncio.sleep(self.config.retry_period * random.uniform(1.0, _JITTER))
        log.info(
            "became leader (lease %s/%s, identity %s)",
            self.config.namespace,
            self.config.name,
            self.config.identity,
        )

    async def hold(self) -> None:
        """Renew until leadership is lost, then return.

        Leadership is lost when another candidate holds the Lease, or when no renewal succeeded
        for ``renew_deadline`` seconds. Each attempt is cut off at that deadline, so a hung
        request cannot keep a leader that the rest of the cluster considers gone.
        """
        last_renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.config.retry_period)
            remaining = self.config.renew_deadline - (time.monotonic() - last_renewed)
            try:
                async with asyncio.timeout(max(remaining, 0.05)):
                    renewed = await self._try_acquire_or_renew()
            except TimeoutError:
                renewed = False
            if renewed:
                last_renewed = time.monotonic()
                continue
            overdue = time.monotonic() - last_renewed >= self.config.renew_deadline
            if self._held_by_other or overdue:
                self.is_leader = False
                log.error("lost leadership of lease %s/%s", self.config.namespace, self.config.name)
                return

    async def release(self) -> None:
        """Give the Lease up at once so a standby need not wait out the lease duration."""
        if not self.is_leader:
            return
        self.is_leader = False
        try:
            lease = await self._client.get(
                resources.LEASE, self.config.name, namespace=self.config.namespace
            )
            if (lease.get("spec") or {}).get("holderIdentity") != self.config.identity:
                return
            lease["spec"].update(
                holderIdentity=None, leaseDurationSeconds=1, renewTime=_micro_time()
            )
            await self._client.replace(resources.LEASE, lease)
        except KubeError as error:
            log.warning("could not release lease: %s", error)

    async def _try_acquire_or_renew(self) -> bool:
        config = self.config
        try:
            lease = await self._client.get(resources.LEASE, config.name, namespace=config.namespace)
        except KubeNotFound:
            return await self._create()
        except KubeError as error:
            log.warning("could not read lease: %s", error)
            return False
        spec = lease.setdefault("spec", {})
        holder = spec.get("holderIdentity")
        record = (holder, spec.get("renewTime"))
        if record != self._observed:
            self._observed, self._observed_at = record, time.monotonic()
        self._held_by_other = False
        if holder and holder != config.identity:
            duration = float(spec.get("leaseDurationSeconds") or config.lease_duration)
            if time.monotonic() - self._observed_at < duration:
                self._held_by_other = self.is_leader
                self.is_leader = False
                return False
        now = _micro_time()
        if holder != config.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec.update(
            holderIdentity=config.identity,
            renewTime=now,
            leaseDurationSeconds=math.ceil(config.lease_duration),
        )
        try:
            await self._client.replace(resources.LEASE, lease)
        except KubeConflict:
            return False
        except KubeError as error:
            log.warning("could not update lease: %s", error)
            return False
        self.is_leader = True
        return True

    async def _create(self) -> bool:
        now = _micro_time()
        try:
            await self._client.create(
                resources.LEASE,
                {
                    "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                    "spec": {
                        "holderIdentity": self.config.identity,
                        "leaseDurationSeconds": math.ceil(self.config.lease_duration),
                        "acquireTime": now,
                        "renewTime": now,
                        "leaseTransitions": 0,
                    },
                },
            )
        except KubeError as error:
            if not isinstance(error, KubeConflict):
                log.warning("could not create lease: %s", error)
            return False
        self.is_leader = True
        return True

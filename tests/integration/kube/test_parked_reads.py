"""Parked health checks read a watch's copy only when it is as new as what the apply returned."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

import pytest

from tests.integration.helpers import eventually
from tests.integration.kube.test_ssa import deployment
from tide.api.kustomize import Kustomization
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.resources import ResourceType
from tide.kube.ssa import ResourceManager, wait
from tide.kube.ssa.changeset import subject
from tide.kube.ssa.wait import Health, Lookup
from tide.kustomize import health
from tide.kustomize.reconciler import MANAGER_OPTIONS
from tide.runtime.wakeups import ObjectWatches

pytestmark = pytest.mark.integration

SERVICE = ResourceType("", "v1", "Service", "services")


@pytest.fixture
def manager(kube: KubeClient) -> ResourceManager:
    return ResourceManager(kube, RESTMapper(kube), "tide-tests", {}, MANAGER_OPTIONS)


def service(namespace: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front", "namespace": namespace},
        "spec": {"type": kind, "ports": [{"port": 80}]},
    }


def serving(copy_: Mapping[str, Any] | None) -> Lookup:
    return lambda _rt, _namespace, _name: (True, copy_)


def target(obj: Mapping[str, Any], resource_version: str) -> dict[str, Any]:
    """A Pending check's target: identity plus the apply's resourceVersion."""
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {**obj["metadata"], "resourceVersion": resource_version},
    }


async def test_a_watch_copy_older_than_the_apply_is_read_again_from_the_server(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    before = await kube.create(SERVICE, service(namespace, "ClusterIP"))  # current: ClusterIP
    after = await kube.patch_merge(
        SERVICE, "front", {"spec": {"type": "LoadBalancer"}}, namespace=namespace
    )  # no load balancer controller here: never current
    applied = target(service(namespace, "LoadBalancer"), after["metadata"]["resourceVersion"])

    # The watch has not delivered the change yet: its copy (the ClusterIP) must not decide.
    verdicts = await wait.look(manager, [applied], cached=serving(before))
    assert verdicts[subject(applied)].health is Health.IN_PROGRESS, verdicts
    assert "load balancer" in verdicts[subject(applied)].message
    # Applied, but not in the watch yet: read from the server too, not "not found".
    verdicts = await wait.look(manager, [applied], cached=serving(None))
    assert "load balancer" in verdicts[subject(applied)].message


async def test_a_watch_copy_as_new_as_the_apply_is_trusted(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    after = await kube.create(SERVICE, service(namespace, "LoadBalancer"))
    # A copy saying what the server does not (an ingress): judged without a read.
    ready = copy.deepcopy(after)
    ready["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}
    for version in (after["metadata"]["resourceVersion"], "not-a-number"):
        applied = target(service(namespace, "LoadBalancer"), version)
        verdicts = await wait.look(manager, [applied], cached=serving(ready))
        assert verdicts[subject(applied)].ready, (version, verdicts)


async def test_every_later_look_of_a_health_check_knows_the_version_applied(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    before = await kube.create(SERVICE, service(namespace, "ClusterIP"))
    after = await kube.patch_merge(
        SERVICE, "front", {"spec": {"type": "LoadBalancer"}}, namespace=namespace
    )
    kustomization = Kustomization.model_validate({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "web", "namespace": namespace, "generation": 1},
        "spec": {"interval": "1m", "prune": True, "wait": True,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip
    pending: health.Pending | None = health.Pending([after], 60, time.monotonic() + 60, None)
    status: dict[str, Any] = {}
    # The first look judges the apply's reply; the next ones are parked looks whose watch
    # still holds the copy from before the apply (current, as a ClusterIP).
    for fresh in (True, False, False):
        assert pending is not None
        pending = await health.resume(
            kustomization, manager, pending, status=status, fresh=fresh, cached=serving(before)
        )
        assert pending is not None, f"healthy on a copy from before the apply: {status}"


async def test_parked_watches_keep_deployments_trimmed_to_what_kstatus_reads(
    kube: KubeClient, namespace: str
) -> None:
    app = deployment(namespace, "app", replicas=2)
    await kube.create(resources.DEPLOYMENT, app)
    watches = ObjectWatches(kube)
    try:
        parking = watches.parking(lambda _key: None)
        await parking.park("k", [app], mapper=RESTMapper(kube))

        async def followed() -> bool:
            return watches.covers(resources.DEPLOYMENT, namespace)

        await eventually(followed, what="the Deployment watch to list")
        lookup = watches.reader(kube)
        assert lookup is not None

        async def same_version() -> tuple[Mapping[str, Any], dict[str, Any]] | None:
            # The Deployment controller writes status meanwhile: compare one version.
            live = await kube.get(resources.DEPLOYMENT, "app", namespace=namespace)
            known, kept = lookup(resources.DEPLOYMENT, namespace, "app")
            assert known and kept is not None
            version = live["metadata"]["resourceVersion"]
            return (kept, live) if kept["metadata"]["resourceVersion"] == version else None

        kept, live = await eventually(same_version, what="the watch to hold the live version")
        assert "template" not in kept["spec"] and "managedFields" not in kept["metadata"]
        assert kept["spec"]["replicas"] == 2 and kept["status"] == live["status"]
        assert wait.readiness(kept) == wait.readiness(live)
        # Rules of a Kustomization's own (CEL) may read any field: not from a trimmed copy.
        whole = watches.reader(kube, whole=True)
        assert whole is not None
        assert whole(resources.DEPLOYMENT, namespace, "app") == (False, None)
    finally:
        await watches.stop()

"""A GitHub push webhook makes Flux objects reconcile at once, well before their interval."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.helpers import events_for, eventually
from tests.integration.notification.conftest import (
    TOKEN,
    Webhooks,
    create_git_repository,
    create_receiver,
    create_token,
    requested_at,
    served_path,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.notification.payloads import sign
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration

PUSH = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": "org/fleet"}}).encode()


def config_map(color: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  color: {color}\n"


def github_headers(body: bytes, event: str = "push", token: str = TOKEN) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature": sign(body, token, algorithm="sha1"),
        "X-Hub-Signature-256": sign(body, token),
    }


async def test_a_signed_push_fetches_the_new_commit_and_applies_it_at_once(
    kube: KubeClient, namespace: str, git_server: GitServer, delivery_pipeline: Webhooks
) -> None:
    repo = f"fleet-{namespace[-8:]}"
    git_server.create_repo(repo, {"app/config.yaml": config_map("blue")})
    await create_git_repository(kube, namespace, "fleet", url=git_server.http_url(repo))
    await kube.create(KUSTOMIZATION, {
        "metadata": {"name": "app", "namespace": namespace},
        "spec": {"interval": "1h", "path": "./app", "prune": True, "targetNamespace": namespace,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip

    async def color() -> str | None:
        found = await kube.get_or_none(resources.CONFIG_MAP, "app", namespace=namespace)
        return (found or {}).get("data", {}).get("color")

    await eventually(lambda: _is(color, "blue"), timeout=60, what="the first commit applied")
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "github", {
        "type": "github", "events": ["ping", "push"],
        "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                       "name": "fleet"}],
    })  # fmt: skip
    path = await served_path(delivery_pipeline, kube, namespace, "github")
    head = git_server.commit(repo, {"app/config.yaml": config_map("green")})

    started = time.monotonic()
    status, text = await delivery_pipeline.post(path, PUSH, github_headers(PUSH))

    assert (status, text.strip()) == (200, "1 object(s) asked to reconcile")
    await eventually(lambda: _is(color, "green"), timeout=30, what="the pushed commit applied")
    elapsed = time.monotonic() - started
    assert elapsed < 30  # the intervals are 1h: only the webhook can have done it
    source = await kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
    assert source["status"]["artifact"]["revision"] == f"main@sha1:{head}"
    stamp = source["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
    assert stamp.endswith("Z") and "T" in stamp
    assert source["status"]["lastHandledReconcileAt"] == stamp

    async def applied() -> bool:  # the objects land before the Kustomization writes its status
        kustomization = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
        return (kustomization.get("status") or {}).get("lastAppliedRevision") == f"main@sha1:{head}"

    await eventually(applied, timeout=30, what="the Kustomization to report the pushed commit")
    [event] = [e for e in await events_for(kube, namespace, "github")
               if e["reason"] == "ReconcileRequested"]  # fmt: skip
    assert event["type"] == "Normal"
    assert event["message"] == (
        f"Reconciliation requested for GitRepository/{namespace}/fleet (github event 'push')"
    )
    assert event["source"]["component"] == "notification-controller"


async def push_receiver(hooks: Webhooks, kube: KubeClient, namespace: str) -> str:
    """A GitHub Receiver for push events on GitRepository ``fleet``; return its path."""
    await create_git_repository(kube, namespace, "fleet")
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "github", {
        "type": "github", "events": ["push"],
        "resources": [{"kind": "GitRepository", "name": "fleet"}],
    })  # fmt: skip
    path = await served_path(hooks, kube, namespace, "github")
    return path


async def test_a_ping_is_answered_without_asking_anything(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await push_receiver(webhooks, kube, namespace)
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()

    status, text = await webhooks.post(path, body, github_headers(body, event="ping"))

    assert (status, text.strip()) == (200, "pong")
    assert await requested_at(kube, namespace, "fleet") is None


async def test_an_event_outside_spec_events_asks_nothing(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await push_receiver(webhooks, kube, namespace)
    body = json.dumps({"action": "opened"}).encode()

    status, text = await webhooks.post(path, body, github_headers(body, event="issues"))
    assert status == 200
    assert text.strip() == "event 'issues' is not in spec.events; nothing to do"
    assert await requested_at(kube, namespace, "fleet") is None

    status, _ = await webhooks.post(path, PUSH, github_headers(PUSH, event="Push"))
    assert status == 200  # the filter ignores case, as Flux's does
    assert await requested_at(kube, namespace, "fleet") is not None


async def _is(probe, expected: str) -> bool:  # type: ignore[no-untyped-def]
    return await probe() == expected

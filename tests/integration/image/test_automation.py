"""The seed loop: a new image is committed as fluxcdbot, pushed, fetched at once and applied."""

# The shared fixtures are imported, and a test naming one as a parameter "redefines" it.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from tests.integration.helpers import events_for, eventually, reconcile_count
from tests.integration.image.automation_common import (  # noqa: F401 (fixtures)
    IMAGE,
    controllers,
    create_automation,
    deployment,
    files,
    git_repository,
    git_server,
    given_automation,
    request_run,
    set_policy,
    wait_ready,
)
from tide.image.automation import IMAGE_UPDATE_AUTOMATION
from tide.kube.client import KubeClient
from tide.kube.resources import DEPLOYMENT
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration


async def test_new_image_is_committed_pushed_fetched_at_once_and_applied(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"seed-{namespace}"
    git_server.create_repo(repo, files(namespace))
    await git_repository(kube, namespace, git_server.http_url(repo))
    await kube.create(KUSTOMIZATION, {
        "metadata": {"name": "apps", "namespace": namespace},
        "spec": {"interval": "10m", "prune": True, "path": "./deploy", "targetNamespace": namespace,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip

    async def image() -> str | None:
        found = await kube.get_or_none(DEPLOYMENT, "my-app", namespace=namespace)
        return found and found["spec"]["template"]["spec"]["containers"][0]["image"]

    assert await eventually(image, what="the Deployment") == f"{IMAGE}:1.0.0"

    await set_policy(kube, namespace, "my-app", "1.0.1")
    await create_automation(kube, namespace)
    obj = await wait_ready(kube, namespace, check=lambda o: o["status"].get("lastPushCommit"))

    pushed = git_server.commit_info(repo)
    assert obj["status"]["lastPushCommit"] == pushed["sha"]
    assert pushed["author_name"] == "fluxcdbot"
    assert pushed["author_email"] == "fluxcdbot@users.noreply.github.com"
    assert pushed["message"] == f"chore: update my-app to {IMAGE}:1.0.1"
    # Only the marked scalar changed: comments, quotes and flow style are as they were.
    assert git_server.read(repo, "deploy/app.yaml") == deployment(namespace, "1.0.1")
    assert obj["status"]["observedPolicies"] == {"my-app": {"name": IMAGE, "tag": "1.0.1"}}
    assert obj["status"]["observedSourceRevision"] == f"main@sha1:{pushed['sha']}"
    assert obj["status"]["lastPushTime"] and obj["status"]["lastAutomationRunTime"]
    assert obj["status"]["conditions"][0]["message"] == "repository up-to-date"

    async def fetched() -> bool:  # the GitRepository's interval is 10m: only requestedAt does it
        repository = await kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
        artifact = (repository.get("status") or {}).get("artifact") or {}
        return artifact.get("revision") == f"main@sha1:{pushed['sha']}"

    await eventually(fetched, timeout=30, what="the GitRepository to fetch the pushed commit")
    await eventually(
        lambda: _equals(image, f"{IMAGE}:1.0.1"), timeout=60, what="the new image applied"
    )

    async def announced() -> bool:  # the event follows the status write
        summary = f"pushed commit '{pushed['sha'][:7]}' to branch 'main'\n"
        events = await events_for(kube, namespace, "my-app")
        return any(e["reason"] == "Succeeded" and e["message"].startswith(summary) for e in events)

    await eventually(announced, what="the push event")

    # A new image picked by the policy wakes the automation (no interval, no request).
    await set_policy(kube, namespace, "my-app", "1.0.2")
    await eventually(
        lambda: _equals(image, f"{IMAGE}:1.0.2"), timeout=120, what="the next image applied"
    )
    assert git_server.commit_info(repo)["message"] == f"chore: update my-app to {IMAGE}:1.0.2"


async def test_nothing_changed_makes_no_commit(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"noop-{namespace}"
    head = await given_automation(
        kube, namespace, git_server, repo, tag="1.0.0"
    )  # what the file already says
    obj = await wait_ready(kube, namespace)
    assert git_server.head(repo) == head
    assert "lastPushCommit" not in obj["status"]
    assert obj["status"]["observedSourceRevision"] == f"main@sha1:{head}"

    # A run woken with nothing new (here: the GitRepository was asked to fetch) clones nothing
    # and writes nothing.
    runs = reconcile_count("ImageUpdateAutomation", namespace, "my-app")
    version = obj["metadata"]["resourceVersion"]
    await kube.patch_merge(GIT_REPOSITORY, "fleet", {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "fetch"}}}, namespace=namespace)  # fmt: skip

    async def ran() -> bool:
        return reconcile_count("ImageUpdateAutomation", namespace, "my-app") > runs

    await eventually(ran, what="the automation to run again")
    again = await kube.get(IMAGE_UPDATE_AUTOMATION, "my-app", namespace=namespace)
    assert again["metadata"]["resourceVersion"] == version

    await request_run(kube, namespace, "again")
    obj = await wait_ready(
        kube, namespace, check=lambda o: o["status"].get("lastHandledReconcileAt") == "again"
    )
    assert git_server.head(repo) == head
    assert "lastPushCommit" not in obj["status"]


async def _equals(probe, expected: str) -> bool:  # type: ignore[no-untyped-def]
    return await probe() == expected

"""Where commits land: a new push branch, a templated branch per update, SSH, refused pushes."""

# The shared fixtures are imported, and a test naming one as a parameter "redefines" it.
# ruff: noqa: F811

from __future__ import annotations

import base64

import pytest

from tests.integration.helpers import events_for, eventually
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
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import GitServer

pytestmark = pytest.mark.integration

BRANCH_TEMPLATE = (
    "image-updates/{{ .AutomationObject.Name }}-"
    '{{ range .Changed.Changes }}{{ .NewValue | trimPrefix "ghcr.io/org/" | replace ":" "-" }}'
    "{{ end }}"
)


def pushed_to(sha_field: str = "lastPushCommit"):  # type: ignore[no-untyped-def]
    return lambda previous: lambda obj: obj["status"].get(sha_field) not in (None, previous)


async def test_push_to_a_new_branch_starts_from_checkout_then_builds_on_itself(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"branch-{namespace}"
    main = await given_automation(kube, namespace, git_server, repo, push={"branch": "auto"})
    first = await wait_ready(kube, namespace, check=pushed_to()(None))
    sha = first["status"]["lastPushCommit"]
    assert git_server.head(repo, "auto") == sha
    assert git_server.head(repo, "auto~1") == main  # started from the checkout branch
    assert git_server.head(repo, "main") == main
    assert git_server.read(repo, "deploy/app.yaml", ref="auto") == deployment(namespace, "1.0.1")

    await set_policy(kube, namespace, "my-app", "1.0.2")
    second = await wait_ready(kube, namespace, check=pushed_to()(sha))
    assert git_server.head(repo, "auto~1") == sha  # on top of its own earlier commit
    assert second["status"]["observedSourceRevision"] == (
        f"auto@sha1:{second['status']['lastPushCommit']}"
    )
    assert git_server.head(repo, "main") == main


async def test_templated_push_branch_gives_one_branch_per_update(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"template-{namespace}"
    main = await given_automation(
        kube, namespace, git_server, repo, push={"branch": BRANCH_TEMPLATE}
    )
    first = await wait_ready(kube, namespace, check=pushed_to()(None))
    one = "image-updates/my-app-my-app-1.0.1"
    assert git_server.head(repo, one) == first["status"]["lastPushCommit"]
    assert git_server.head(repo, f"{one}~1") == main

    await set_policy(kube, namespace, "my-app", "1.0.2")
    second = await wait_ready(kube, namespace, check=pushed_to()(first["status"]["lastPushCommit"]))
    two = "image-updates/my-app-my-app-1.0.2"
    assert git_server.head(repo, two) == second["status"]["lastPushCommit"]
    assert git_server.head(repo, f"{two}~1") == main  # each update branches from main
    assert git_server.head(repo, one) == first["status"]["lastPushCommit"]

    # Run again with nothing new: the branch for 1.0.2 exists and already has the change.
    await request_run(kube, namespace, "again")
    third = await wait_ready(
        kube, namespace, check=lambda o: o["status"].get("lastHandledReconcileAt") == "again"
    )
    assert third["status"]["lastPushCommit"] == second["status"]["lastPushCommit"]
    assert git_server.head(repo, two) == second["status"]["lastPushCommit"]
    assert git_server.head(repo, "main") == main


async def test_push_over_ssh(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"ssh-{namespace}"
    git_server.create_repo(repo, files(namespace))
    private_key, _ = git_server.client_key()
    await kube.create(resources.SECRET, {
        "metadata": {"name": "ssh", "namespace": namespace},
        "data": {"identity": base64.b64encode(private_key.encode()).decode(),
                 "known_hosts": base64.b64encode(git_server.known_hosts.encode()).decode()},
    })  # fmt: skip
    await git_repository(kube, namespace, git_server.ssh_url(repo), secret="ssh")
    await set_policy(kube, namespace, "my-app", "1.0.1")
    await create_automation(kube, namespace)
    obj = await wait_ready(kube, namespace, check=pushed_to()(None))
    assert git_server.head(repo) == obj["status"]["lastPushCommit"]
    assert git_server.read(repo, "deploy/app.yaml") == deployment(namespace, "1.0.1")


async def test_refused_push_is_reported_and_retried(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"refused-{namespace}"
    main = git_server.create_repo(repo, files(namespace))
    git_server.reject_pushes(repo, ref="refs/heads/main", message="main is protected")
    await git_repository(kube, namespace, git_server.http_url(repo))
    await set_policy(kube, namespace, "my-app", "1.0.1")
    await create_automation(kube, namespace)
    await wait_ready(
        kube,
        namespace,
        status="False",
        check=lambda o: o["status"]["conditions"][-1]["reason"] == "GitOperationFailed",
    )

    async def refused() -> str | None:
        for event in await events_for(kube, namespace, "my-app"):
            if event["type"] == "Warning" and event["reason"] == "GitOperationFailed":
                return event["message"]
        return None

    message = await eventually(refused, what="a Warning event for the refused push")
    assert "push to 'main' refused by the server" in message
    assert "pre-receive hook declined" in message and "main is protected" in message
    assert git_server.head(repo) == main

    git_server.allow_pushes(repo)  # the retries (with backoff) get through now
    obj = await wait_ready(kube, namespace, check=pushed_to()(None), timeout=90)
    assert git_server.head(repo) == obj["status"]["lastPushCommit"]
    assert git_server.read(repo, "deploy/app.yaml") == deployment(namespace, "1.0.1")
    assert IMAGE in git_server.commit_info(repo)["message"]


async def test_refspec_and_push_options_are_sent(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"options-{namespace}"
    push = {
        "branch": "main",
        "refspec": "refs/heads/main:refs/heads/review",
        "options": {"merge_request.create": "", "topic": "images"},
    }
    await given_automation(kube, namespace, git_server, repo, push=push)
    obj = await wait_ready(kube, namespace, check=pushed_to()(None))
    sha = obj["status"]["lastPushCommit"]
    assert git_server.head(repo, "main") == sha
    assert git_server.head(repo, "review") == sha
    assert sorted(git_server.push_options(repo)) == ["merge_request.create", "topic=images"]
    summary = (
        f"pushed commit '{sha[:7]}' to branch 'main' and using refspec "
        "'refs/heads/main:refs/heads/review'\n"
    )

    async def announced() -> bool:  # the event follows the status write
        events = await events_for(kube, namespace, "my-app")
        return any(e["message"].startswith(summary) for e in events)

    await eventually(announced, what="the push event")

"""Commit-status types: the loopback server plays each Git host's API."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from tide.notification.providers import Event, InvalidProvider, SendFailed, notifier_for
from tide.notification.providers._git import commit_sha, describe_reason

from .conftest import Sink, deliver, make_event, settings

pytestmark = pytest.mark.unit

SHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"
UID = "0c9c2e41-7d0c-4a5e-a0a4-3f0b0c9c2e41"
INFO = make_event()
ERROR = make_event(severity="error", reason="HealthCheckFailed", message="timeout")


async def _post(type_: str, event: Event = INFO, **values: Any) -> None:
    values.setdefault("uid", UID)
    await deliver(type_, event, **values)


@pytest.mark.parametrize(
    ("revision", "sha"),
    [
        (f"main@sha1:{SHA}", SHA),
        (f"refs/tags/v1@sha1:{SHA}", SHA),
        (f"sha1:{SHA}", SHA),
        (f"main/{SHA}", SHA),
        (SHA.upper(), SHA),
        ("main@sha256:" + "a" * 64, "a" * 64),
        ("v1.2.3", None),
        ("", None),
    ],
)
def test_commit_is_read_from_the_revision(revision: str, sha: str | None) -> None:
    assert commit_sha(make_event(metadata={"revision": revision})) == sha


def test_the_kustomize_controller_revision_key_is_read_too() -> None:
    event = make_event(metadata={"kustomize.toolkit.fluxcd.io/revision": f"main/{SHA}"})

    assert commit_sha(event) == SHA


def test_description_is_the_reason_in_words() -> None:
    assert describe_reason("ReconciliationSucceeded") == "reconciliation succeeded"
    assert describe_reason("HealthCheckFailed") == "health check failed"


async def test_github_posts_a_status_with_kind_name_and_provider_uid_context(sink: Sink) -> None:
    await _post("github", address=f"{sink.url}/my-org/my-repo.git", token="ghp_x")

    listing, request = sink.requests
    assert (listing.method, listing.path) == (
        "GET",
        f"/api/v3/repos/my-org/my-repo/commits/{SHA}/statuses",
    )
    assert (request.method, request.path) == (
        "POST",
        f"/api/v3/repos/my-org/my-repo/statuses/{SHA}",
    )
    assert request.headers["authorization"] == "Bearer ghp_x"
    assert request.json() == {
        "state": "success",
        "context": "kustomization/webapp/0c9c2e41",
        "description": "reconciliation succeeded",
    }


async def test_github_error_is_a_failure_state(sink: Sink) -> None:
    await _post("github", ERROR, address=f"{sink.url}/o/r", token="ghp_test")

    posted = sink.requests[-1].json()
    assert posted["state"] == "failure"
    assert posted["description"] == "health check failed"


async def test_github_does_not_repeat_a_status_the_commit_already_has(sink: Sink) -> None:
    listing = f"/api/v3/repos/o/r/commits/{SHA}/statuses"
    same = {
        "state": "success",
        "context": "kustomization/webapp/0c9c2e41",
        "description": "reconciliation succeeded",
        "id": 2,
    }
    older = {**same, "state": "failure", "id": 1}
    sink.respond(listing, 200, json.dumps([same, older]))

    await _post("github", address=f"{sink.url}/o/r", token="ghp_test")
    sink.respond(listing, 200, json.dumps([{**same, "state": "failure"}]))
    await _post("github", address=f"{sink.url}/o/r", token="ghp_test")

    assert [r.method for r in sink.requests] == ["GET", "GET", "POST"]


async def test_commit_status_expr_sets_the_context(sink: Sink) -> None:
    event = make_event(metadata={"revision": f"main@sha1:{SHA}", "clusterName": "prod-01"})
    expr = (
        "(event.involvedObject.kind + '/' + event.involvedObject.name).lowerAscii() "
        "+ '/' + event.metadata.clusterName + '/' + provider.metadata.name"
    )

    await _post(
        "github", event, address=f"{sink.url}/o/r", token="ghp_test", commit_status_expr=expr
    )

    assert sink.requests[-1].json()["context"] == "kustomization/webapp/prod-01/alerts"


def test_commit_status_expr_that_does_not_parse_is_invalid() -> None:
    with pytest.raises(InvalidProvider, match="commitStatusExpr does not parse"):
        notifier_for(
            settings(
                "github",
                address="https://github.com/o/r",
                token="ghp_test",
                commit_status_expr="((",
            )
        )


async def test_commit_status_expr_that_is_not_a_string_fails_without_retry(sink: Sink) -> None:
    with pytest.raises(SendFailed, match="did not evaluate to a non-empty string") as failure:
        await _post(
            "github", address=f"{sink.url}/o/r", token="ghp_test", commit_status_expr="1 + 2"
        )

    assert not failure.value.retryable
    assert sink.requests == []


async def test_event_without_a_commit_is_not_posted(sink: Sink) -> None:
    with pytest.raises(SendFailed, match="no commit revision") as failure:
        await _post("github", make_event(metadata={}), address=f"{sink.url}/o/r", token="ghp_test")

    assert not failure.value.retryable
    assert sink.requests == []


@pytest.mark.parametrize(
    ("type_", "address"),
    [
        ("github", "https://github.com/only-owner"),
        ("github", "https://github.com/a/b/c"),
        ("gitea", "not-a-url"),
        ("bitbucketserver", "https://bitbucket.example.com/projects/P/repos/r"),
        ("bitbucketserver", "ssh://git@bitbucket.example.com:7999/p/r.git"),
        ("azuredevops", "https://dev.azure.com/org/project/repo"),
    ],
)
def test_malformed_repository_address_is_invalid(type_: str, address: str) -> None:
    with pytest.raises(InvalidProvider, match=r"Provider 'apps/alerts'.*address"):
        notifier_for(settings(type_, address=address, token="u:p"))


@pytest.mark.parametrize(
    ("type_", "address"),
    [
        ("github", "https://github.com/o/r"),
        ("gitlab", "https://gitlab.com/g/p"),
        ("gitea", "https://gitea.example.com/o/r"),
        ("azuredevops", "https://dev.azure.com/org/project/_git/repo"),
    ],
)
def test_git_hosts_require_a_token(type_: str, address: str) -> None:
    with pytest.raises(InvalidProvider, match="requires a token"):
        notifier_for(settings(type_, address=address))


async def test_gitlab_posts_to_the_url_encoded_project(sink: Sink) -> None:
    await _post("gitlab", ERROR, address=f"{sink.url}/group/sub/project", token="glpat")

    request = sink.only
    assert request.raw_path == f"/api/v4/projects/group%2Fsub%2Fproject/statuses/{SHA}"
    assert request.headers["private-token"] == "glpat"
    assert request.json() == {
        "state": "failed",
        "name": "kustomization/webapp/0c9c2e41",
        "description": "health check failed",
    }


async def test_gitlab_already_in_that_state_is_success(sink: Sink) -> None:
    sink.respond(
        f"/api/v4/projects/1234/statuses/{SHA}",
        400,
        '{"message": "Cannot transition status via :run from :running"}',
    )

    await _post("gitlab", address=f"{sink.url}/1234", token="glpat")

    assert len(sink.requests) == 1


async def test_gitea_posts_with_a_token_header(sink: Sink) -> None:
    await _post("gitea", address=f"{sink.url}/owner/repo", token="gt")

    request = sink.only
    assert request.path == f"/api/v1/repos/owner/repo/statuses/{SHA}"
    assert request.headers["authorization"] == "token gt"
    assert request.json()["context"] == "kustomization/webapp/0c9c2e41"


async def test_bitbucket_posts_a_build_status_keyed_by_sha1(sink: Sink) -> None:
    await _post("bitbucket", address=f"{sink.url}/workspace/repo", token="user:app-pass")

    request = sink.only
    assert request.path == f"/2.0/repositories/workspace/repo/commit/{SHA}/statuses/build"
    assert (
        request.headers["authorization"] == "Basic " + base64.b64encode(b"user:app-pass").decode()
    )
    identity = "kustomization/webapp/0c9c2e41"
    assert request.json() == {
        "state": "SUCCESSFUL",
        "key": hashlib.sha1(identity.encode()).hexdigest(),
        "name": identity,
        "description": "reconciliation succeeded",
        "url": f"{sink.url}/workspace/repo",
    }


def test_bitbucket_token_must_be_user_colon_password() -> None:
    with pytest.raises(InvalidProvider, match="<username>:<app password>"):
        notifier_for(settings("bitbucket", address="https://bitbucket.org/w/r", token="nocolon"))


async def test_bitbucketserver_posts_under_the_context_path_with_bearer(sink: Sink) -> None:
    await _post(
        "bitbucketserver", ERROR, address=f"{sink.url}/bitbucket/scm/PROJ/repo.git", token="bbt"
    )

    request = sink.only
    assert request.path == (
        f"/bitbucket/rest/api/1.0/projects/PROJ/repos/repo/commits/{SHA}/builds"
    )
    assert request.headers["authorization"] == "Bearer bbt"
    assert request.json()["state"] == "FAILED"
    assert request.json()["name"] == "kustomization/webapp/0c9c2e41"


async def test_bitbucketserver_basic_auth_from_username_and_password(sink: Sink) -> None:
    await _post("bitbucketserver", address=f"{sink.url}/scm/p/r.git", username="ci", password="pw")

    assert sink.only.headers["authorization"] == "Basic " + base64.b64encode(b"ci:pw").decode()


async def test_azuredevops_posts_a_fluxcd_genre_status(sink: Sink) -> None:
    await _post("azuredevops", address=f"{sink.url}/org/project/_git/repo", token="pat")

    request = sink.only
    assert request.path == f"/org/project/_apis/git/repositories/repo/commits/{SHA}/statuses"
    assert request.query == "api-version=6.0"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b":pat").decode()
    assert request.json() == {
        "state": "succeeded",
        "description": "reconciliation succeeded",
        "context": {"genre": "fluxcd", "name": "kustomization/webapp/0c9c2e41"},
    }

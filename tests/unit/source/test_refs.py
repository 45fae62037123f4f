"""Ref resolution follows Flux's precedence and names revisions as Flux does."""

from __future__ import annotations

import pytest

from tide.source.git.refs import RefNotFound, parse_ls_remote, resolve

pytestmark = pytest.mark.unit

LS_REMOTE = "\n".join([
    "ref: refs/heads/main\tHEAD",
    "aaa\tHEAD",
    "aaa\trefs/heads/main",
    "abc\trefs/heads/master",
    "bbb\trefs/heads/dev",
    "ccc\trefs/tags/v1.0.0",
    "ddd\trefs/tags/v1.2.0",
    "eee\trefs/tags/v1.2.0^{}",
    "fff\trefs/tags/v2.0.0-rc.1",
])  # fmt: skip
REMOTE = parse_ls_remote(LS_REMOTE)


def test_annotated_tags_resolve_to_their_commit() -> None:
    assert REMOTE.refs["refs/tags/v1.2.0"] == "eee"
    assert REMOTE.head == "refs/heads/main"


@pytest.mark.parametrize(
    ("ref", "revision"),
    [
        ({}, "master@sha1:abc"),
        ({"branch": ""}, "master@sha1:abc"),
        ({"branch": "dev"}, "dev@sha1:bbb"),
        ({"branch": "dev", "tag": "v1.0.0"}, "v1.0.0@sha1:ccc"),
        ({"tag": "v1.0.0", "semver": "1.x"}, "v1.2.0@sha1:eee"),
        ({"semver": "*", "name": "refs/heads/dev"}, "refs/heads/dev@sha1:bbb"),
        ({"name": "refs/heads/dev", "commit": "123"}, "sha1:123"),
        ({"branch": "dev", "commit": "123"}, "dev@sha1:123"),
    ],
)
def test_precedence(ref: dict[str, str], revision: str) -> None:
    assert resolve(ref, REMOTE).revision == revision


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"branch": "gone"}, "couldn't find remote branch 'gone'"),
        ({"tag": "v9"}, "couldn't find remote tag 'v9'"),
        ({"semver": ">=3"}, "no tag matches semver range '>=3'"),
        ({"name": "refs/pull/1/head"}, "couldn't find remote ref 'refs/pull/1/head'"),
    ],
)
def test_missing_references_say_what_was_looked_for(ref: dict[str, str], message: str) -> None:
    with pytest.raises(RefNotFound, match=message):
        resolve(ref, REMOTE)


def test_no_ref_follows_master_not_the_remote_head() -> None:
    remote = parse_ls_remote(
        "ref: refs/heads/main\tHEAD\naaa\trefs/heads/main\nabc\trefs/heads/master"
    )
    assert remote.head == "refs/heads/main"
    assert resolve(None, remote).revision == "master@sha1:abc"


def test_no_ref_without_master_fails_like_an_unknown_branch() -> None:
    remote = parse_ls_remote("ref: refs/heads/main\tHEAD\naaa\trefs/heads/main")
    with pytest.raises(RefNotFound) as raised:
        resolve({}, remote)
    message = str(raised.value)
    assert message.startswith("couldn't find remote branch 'master'")
    assert "set spec.ref.branch" in message

"""Pushing never forces: a branch that moved on is refused with a precise reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tide.image.automation.workspace import Author, workspace
from tide.source.git.push import PushRejected
from tide.testing import GitServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


async def test_push_onto_a_branch_that_moved_on_is_refused_not_forced(
    git_server: GitServer,
) -> None:
    first = git_server.create_repo("moved", {"a.yaml": "a: 1\n"})
    async with workspace(git_server.http_url("moved"), None, timeout=30) as tree:
        await tree.check_out(first, branch="main", fetch_ref="refs/heads/main")
        (tree.folder / "a.yaml").write_text("a: 2\n")
        await tree.commit(
            ["a.yaml"], author=Author("fluxcdbot", "bot@example.invalid"), message="x"
        )
        theirs = git_server.commit("moved", {"b.yaml": "b: 1\n"})  # someone else pushed meanwhile
        with pytest.raises(PushRejected) as refused:
            await tree.push(["refs/heads/main:refs/heads/main"], options=None)
    assert refused.value.behind
    assert (
        "push to 'main' refused: the remote branch has commits this push does not contain"
        in str(refused.value)
    )
    assert "never force-pushes" in str(refused.value)
    assert git_server.head("moved") == theirs


async def test_force_and_delete_refspecs_are_refused(git_server: GitServer, tmp_path: Path) -> None:
    git_server.create_repo("force", {"a.yaml": "a: 1\n"})
    async with workspace(git_server.http_url("force"), None, timeout=30) as tree:
        for refspec in ("+refs/heads/main:refs/heads/main", ":refs/heads/main"):
            with pytest.raises(ValueError, match="force-update or delete"):
                await tree.push([refspec], options=None)

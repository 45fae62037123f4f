"""Push local commits to a remote, never forcing, and say precisely why a push was refused.

``git push --porcelain`` prints one line per ref with a flag (``!`` for refused) and git's
summary of why (``[rejected] (fetch first)``, ``[remote rejected] (pre-receive hook declined)``);
the server's own words come on standard error as ``remote:`` lines. :func:`push` reads both, so
a refused push reads as "the remote branch 'main' moved on" or "the server refused it: <the
hook's message>" rather than as git's last line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tide.api import reasons
from tide.source.git.command import GitCommandError, run_git

__all__ = ["PushRejected", "push"]

_BEHIND = ("fetch first", "non-fast-forward", "stale info")


class PushRejected(GitCommandError):
    """The remote refused to update a ref; ``ref`` names it, ``behind`` tells a moved-on branch."""

    def __init__(self, message: str, *, ref: str, behind: bool) -> None:
        super().__init__(message, reason=reasons.GIT_OPERATION_FAILED)
        self.ref = ref
        self.behind = behind


async def push(
    folder: Path,
    refspecs: Sequence[str],
    *,
    env: dict[str, str],
    timeout: float,
    options: Mapping[str, str] | None = None,
    remote: str = "origin",
) -> None:
    """Push ``refspecs`` from the repository in ``folder`` to ``remote``, without force.

    Args:
        folder: a work tree (or bare repository) whose ``remote`` is configured.
        refspecs: ``src:dst`` refspecs; a leading ``+`` (force) is refused here.
        env: the environment from :func:`tide.source.git.auth.git_environment`.
        timeout: seconds before the push is killed.
        options: push options sent with ``--push-option`` (``key=value``, or ``key`` alone
            for an empty value), as Flux's ``spec.git.push.options``.
        remote: the remote's name.

    Raises:
        PushRejected: the remote refused a ref (moved on, protected, hook declined).
        GitCommandError: anything else (unreachable, credentials).
        ValueError: a refspec asks for a force update or a deletion.
    """
    for refspec in refspecs:
        if refspec.startswith("+") or refspec.startswith(":"):
            raise ValueError(f"refspec '{refspec}' would force-update or delete a remote ref")
    flags = [
        f"--push-option={k}={v}" if v else f"--push-option={k}" for k, v in (options or {}).items()
    ]
    try:
        await run_git(
            ["-C", str(folder), "push", "--porcelain", *flags, remote, *refspecs],
            env=env,
            timeout=timeout,
        )
    except GitCommandError as error:
        refused = _refused(error.output)
        if refused is None:
            raise
        ref, why = refused
        raise _rejection(ref, why, str(error)) from error


def _refused(output: str) -> tuple[str, str] | None:
    """Return (destination ref, git's summary) of the first refused ref in porcelain output."""
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "!":
            destination = parts[1].rpartition(":")[2]
            return destination, parts[2].strip()
    return None


def _rejection(ref: str, why: str, stderr: str) -> PushRejected:
    branch = ref.removeprefix("refs/heads/")
    remote_lines = [
        part.removeprefix("remote:").strip()
        for part in stderr.split("; ")
        if part.startswith("remote:") and part.removeprefix("remote:").strip()
    ]
    said = f": {'; '.join(remote_lines)}" if remote_lines else ""
    if "[rejected]" in why and any(word in why for word in _BEHIND):
        return PushRejected(
            f"push to '{branch}' refused: the remote branch has commits this push does not "
            f"contain ({why.strip('[]')}); the next attempt builds on top of them (Tide never "
            "force-pushes)",
            ref=ref,
            behind=True,
        )
    return PushRejected(
        f"push to '{branch}' refused by the server {why}{said}", ref=ref, behind=False
    )

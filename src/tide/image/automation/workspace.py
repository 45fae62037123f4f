"""A private, writable clone for one automation run: check out, switch branch, commit, push.

The source controller's checkouts are shared and read-only; an automation needs its own work
tree, made in a fresh temporary folder each run and removed after it, so nothing of one run
(or one tenant's credentials) leaks into the next. Clones are shallow (one commit deep): a
commit on top of a shallow history pushes like any other, and the remote has every parent.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tide.image.automation.signing import Signer
from tide.source.git.auth import GitAuth, git_environment
from tide.source.git.command import GitCommandError, run_git
from tide.source.git.push import push
from tide.source.git.refs import RemoteRefs, parse_ls_remote

__all__ = ["Author", "Workspace", "workspace"]


@dataclass(frozen=True)
class Author:
    """Who commits: ``spec.git.commit.author``."""

    name: str
    email: str


class Workspace:
    """A work tree at ``folder`` whose ``origin`` is the GitRepository's URL."""

    def __init__(self, folder: Path, *, url: str, env: dict[str, str], timeout: float) -> None:
        self.folder = folder
        self.url = url
        self._env = env
        self._timeout = timeout

    async def _git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return await run_git(
            ["-C", str(self.folder), *args], env={**self._env, **(env or {})}, timeout=self._timeout
        )

    async def list_refs(self) -> RemoteRefs:
        """Ask the remote for its references (what a push would build on)."""
        output = await run_git(["ls-remote", "--", self.url], env=self._env, timeout=self._timeout)
        return parse_ls_remote(output)

    async def check_out(self, commit: str, *, branch: str, fetch_ref: str | None) -> None:
        """Make ``branch`` point at ``commit`` (fetched one deep) and check it out cleanly."""
        try:
            await self._git("fetch", "-q", "--depth=1", "--no-tags", "origin", commit)
        except Exception:
            if fetch_ref is None:
                raise
            await self._git("fetch", "-q", "--depth=1", "--no-tags", "origin", fetch_ref)
        await self._git("checkout", "-q", "-f", "-B", branch, commit)
        await self._git("clean", "-q", "-fdx")

    async def commit(
        self,
        paths: Sequence[str],
        *,
        author: Author,
        message: str,
        signer: Signer | None = None,
    ) -> str:
        """Commit ``paths`` as ``author`` (author and committer, as Flux does); return the sha.

        With ``signer``, the commit is signed with its OpenPGP key.
        """
        identity = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": author.name,
            "GIT_COMMITTER_EMAIL": author.email,
        }
        sign = [*signer.config_args, "commit", f"-S{signer.fingerprint}"] if signer else ["commit"]
        await self._git("add", "--", *paths)
        await self._git(*sign, "-q", "--no-verify", "-m", message, env=identity)
        return (await self._git("rev-parse", "HEAD")).strip()

    async def rename_branch(self, branch: str) -> None:
        """Give the checked-out work (and its uncommitted changes) the branch name ``branch``."""
        await self._git("checkout", "-q", "-B", branch)

    async def valid_branch(self, branch: str) -> bool:
        """Tell whether ``branch`` is a valid branch name, by git's own rules."""
        try:
            await self._git("check-ref-format", "--branch", branch)
        except GitCommandError:
            return False
        return bool(branch) and not branch.startswith("-")

    async def push(self, refspecs: Sequence[str], *, options: Mapping[str, str] | None) -> None:
        """Push ``refspecs`` to ``origin``, never forcing (:func:`tide.source.git.push.push`)."""
        await push(self.folder, refspecs, env=self._env, timeout=self._timeout, options=options)


@contextlib.asynccontextmanager
async def workspace(
    url: str, auth: GitAuth | None, *, timeout: float, proxy: str | None = None
) -> AsyncIterator[Workspace]:
    """Yield an empty repository with ``origin`` set to ``url``; remove it afterwards.

    Args:
        url: the GitRepository's URL.
        auth: its credentials (HTTP basic/bearer, SSH key and known hosts).
        timeout: seconds each git command may take (the GitRepository's ``spec.timeout``).
        proxy: an HTTP(S) proxy URL, with credentials if any (``spec.proxySecretRef``).
    """
    folder = Path(tempfile.mkdtemp(prefix="tide-image-automation-"))
    try:
        with git_environment(auth) as env:
            if proxy:
                env = _with_config(env, "http.proxy", proxy)
            tree = Workspace(folder / "tree", url=url, env=env, timeout=timeout)
            await run_git(["init", "-q", str(tree.folder)], env=env, timeout=timeout)
            await tree._git("remote", "add", "origin", url)
            yield tree
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with_config(env: dict[str, str], key: str, value: str) -> dict[str, str]:
    """Add one ``GIT_CONFIG_*`` setting to an environment from ``git_environment``."""
    count = int(env.get("GIT_CONFIG_COUNT", "0"))
    return {
        **env,
        f"GIT_CONFIG_KEY_{count}": key,
        f"GIT_CONFIG_VALUE_{count}": value,
        "GIT_CONFIG_COUNT": str(count + 1),
    }

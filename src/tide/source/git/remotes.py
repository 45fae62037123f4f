"""Shared access to Git remotes: one remote check per identity at a time, one checkout per commit.

A hundred GitRepositories on the same URL and ref ask the remote once (concurrent checks of the
same URL with the same credentials share one ``git ls-remote``, and its answer is reused for a few
seconds), and a commit is cloned once however many objects want it. The checkout cache is safe
across tenants because every object first proves, with its own credentials, that it can read the
remote: a checkout is only handed out for a commit that object's own remote check returned.
"""

from __future__ import annotations

import collections
import hashlib
import shutil
import time
from pathlib import Path

from tide.runtime.singleflight import SingleFlight
from tide.source.git.auth import GitAuth, git_environment
from tide.source.git.command import GitCommandError, run_git
from tide.source.git.refs import RemoteRefs, Resolved, parse_ls_remote

__all__ = ["GitRemotes"]


class GitRemotes:
    """Remote checks and checkouts, shared by every GitRepository reconcile in the process.

    Args:
        workdir: where checkouts are kept.
        check_ttl: seconds a remote check's answer is reused (default 2). A reconcile asked for
            by ``requestedAt`` bypasses it, so a push is seen at once.
        max_checkouts: how many commits' checkouts are kept (oldest evicted first).
    """

    def __init__(self, workdir: Path, *, check_ttl: float = 2.0, max_checkouts: int = 64) -> None:
        self.workdir = workdir
        self.check_ttl = check_ttl
        self.max_checkouts = max_checkouts
        self.calls: collections.Counter[str] = collections.Counter()
        """Git commands run against remotes, by kind ("ls-remote", "fetch"); for benchmarks."""
        self._checks: dict[str, tuple[float, RemoteRefs]] = {}
        self._flight: SingleFlight[object] = SingleFlight()
        (workdir / "checkouts").mkdir(parents=True, exist_ok=True)

    async def list_refs(
        self, url: str, auth: GitAuth | None, *, timeout: float, fresh: bool = False
    ) -> RemoteRefs:
        """Return the remote's references, asking it at most once per ``check_ttl`` per identity."""
        key = f"{url}\0{(auth or GitAuth()).fingerprint()}"
        cached = self._checks.get(key)
        if cached and not fresh and time.monotonic() - cached[0] < self.check_ttl:
            return cached[1]

        async def check() -> RemoteRefs:
            self.calls["ls-remote"] += 1
            with git_environment(auth) as env:
                output = await run_git(
                    ["ls-remote", "--symref", "--", url], env=env, timeout=timeout
                )
            refs = parse_ls_remote(output)
            self._checks[key] = (time.monotonic(), refs)
            return refs

        return await self._flight.do(f"check\0{key}", check)

    async def checkout(
        self,
        url: str,
        auth: GitAuth | None,
        resolved: Resolved,
        *,
        submodules: bool,
        timeout: float,
    ) -> Path:
        """Return a folder holding ``resolved.commit``'s files (shared; treat it as read-only)."""
        key = hashlib.sha256(f"{url}\0{resolved.commit}\0{submodules}".encode()).hexdigest()[:32]
        folder = self.workdir / "checkouts" / key
        # The marker sits beside the checkout, never in it, so it cannot end up in an archive.
        marker = folder.with_name(f"{key}.complete")
        if marker.exists():
            marker.touch()
            return folder

        async def clone() -> Path:
            if marker.exists():
                return folder
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            try:
                await self._fetch(url, auth, resolved, folder, submodules, timeout)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            marker.touch()
            self._evict()
            return folder

        return await self._flight.do(f"checkout\0{key}", clone)

    async def _fetch(
        self,
        url: str,
        auth: GitAuth | None,
        resolved: Resolved,
        folder: Path,
        submodules: bool,
        timeout: float,
    ) -> None:
        self.calls["fetch"] += 1
        with git_environment(auth) as env:
            git = ["-C", str(folder)]
            await run_git([*git, "init", "-q"], env=env, timeout=timeout)
            await run_git([*git, "remote", "add", "origin", url], env=env, timeout=timeout)
            try:
                # Protocol v2 lets a client ask for any reachable commit: one shallow fetch.
                await run_git(
                    [*git, "fetch", "-q", "--depth=1", "--no-tags", "origin", resolved.commit],
                    env=env,
                    timeout=timeout,
                )
            except GitCommandError:
                if resolved.fetch_ref is None:
                    raise
                await run_git(
                    [*git, "fetch", "-q", "--no-tags", "origin", resolved.fetch_ref],
                    env=env,
                    timeout=timeout,
                )
            await run_git(
                [*git, "checkout", "-q", "--detach", resolved.commit], env=env, timeout=timeout
            )
            if submodules:
                await run_git(
                    [*git, "submodule", "update", "-q", "--init", "--recursive", "--depth=1"],
                    env=env,
                    timeout=timeout,
                )

    def _evict(self) -> None:
        markers = sorted(
            (self.workdir / "checkouts").glob("*.complete"), key=lambda p: p.stat().st_mtime
        )
        for marker in markers[: max(0, len(markers) - self.max_checkouts)]:
            marker.unlink(missing_ok=True)
            shutil.rmtree(marker.with_suffix(""), ignore_errors=True)

    async def commit_subject(self, folder: Path) -> str:
        """Return the first line of the checked-out commit's message (for the NewArtifact event)."""
        with git_environment(None) as env:
            output = await run_git(
                ["-C", str(folder), "log", "-1", "--format=%s"], env=env, timeout=10
            )
        return output.strip()

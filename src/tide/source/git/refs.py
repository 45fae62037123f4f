"""Resolve a GitRepository's ``spec.ref`` against a remote's references, with Flux's precedence.

Precedence, lowest to highest: ``branch`` < ``tag`` < ``semver`` < ``name`` < ``commit``; with no
ref at all (or an empty one), branch ``master``, as in Flux, whatever the remote's ``HEAD`` names:
a Flux user's GitRepository without ``spec.ref`` must deploy the same commit under Tide. The
result names the revision the way Flux reports it: ``<branch-or-tag>@sha1:<commit>``,
``<refname>@sha1:<commit>`` for ``name``, and ``sha1:<commit>`` for a bare commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tide import semver

__all__ = ["DEFAULT_BRANCH", "RefNotFound", "RemoteRefs", "Resolved", "parse_ls_remote", "resolve"]

DEFAULT_BRANCH = "master"
"""The branch a GitRepository follows when ``spec.ref`` names nothing (Flux's default)."""


class RefNotFound(LookupError):
    """The remote has no reference matching ``spec.ref``; the message says which."""


@dataclass(frozen=True)
class RemoteRefs:
    """What ``git ls-remote --symref`` told about a remote."""

    refs: Mapping[str, str]
    """Full ref name → commit (annotated tags already peeled to their commit)."""
    head: str | None
    """Full name of the remote's default branch (``refs/heads/main``), when it says; never
    followed: a GitRepository without ``spec.ref`` follows ``master``, as in Flux."""


@dataclass(frozen=True)
class Resolved:
    """One resolved reference."""

    fetch_ref: str | None
    """The ref to fetch (``refs/heads/main``), or None to fetch ``commit`` directly."""
    commit: str
    revision: str
    """The revision as Flux reports it in ``status.artifact.revision``."""


def parse_ls_remote(output: str) -> RemoteRefs:
    """Parse ``git ls-remote --symref`` output."""
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    head: str | None = None
    for line in output.splitlines():
        left, _, name = line.partition("\t")
        if left.startswith("ref: ") and name == "HEAD":
            head = left.removeprefix("ref: ").strip()
        elif name.endswith("^{}"):
            peeled[name.removesuffix("^{}")] = left
        elif name:
            refs[name] = left
    refs.update(peeled)
    return RemoteRefs(refs=refs, head=head)


def _short(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def resolve(ref: Mapping[str, str] | None, remote: RemoteRefs) -> Resolved:
    """Pick the commit ``ref`` (``spec.ref`` as a dict) names on ``remote``.

    Raises:
        RefNotFound: the branch (``master`` when nothing is named), tag or name does not exist,
            or no tag satisfies the semver range.
        ValueError: the semver range itself is invalid.
    """
    ref = {k: v for k, v in (ref or {}).items() if v}
    if commit := ref.get("commit"):
        branch = ref.get("branch")
        if branch:
            return Resolved(f"refs/heads/{branch}", commit, f"{branch}@sha1:{commit}")
        return Resolved(None, commit, f"sha1:{commit}")
    if name := ref.get("name"):
        return _lookup(remote, name, name, f"couldn't find remote ref '{name}'")
    if constraint := ref.get("semver"):
        tags = [_short(r) for r in remote.refs if r.startswith("refs/tags/")]
        chosen = semver.latest(tags, constraint, strict_tags=True)
        if chosen is None:
            raise RefNotFound(f"no tag matches semver range '{constraint}'")
        return _lookup(remote, f"refs/tags/{chosen}", chosen, "")
    if tag := ref.get("tag"):
        return _lookup(remote, f"refs/tags/{tag}", tag, f"couldn't find remote tag '{tag}'")
    branch = ref.get("branch")
    missing = f"couldn't find remote branch '{branch}'"
    if not branch:
        branch = DEFAULT_BRANCH
        missing = (
            f"couldn't find remote branch '{branch}' (followed because spec.ref names no branch, "
            "tag, semver, name or commit; set spec.ref.branch)"
        )
    return _lookup(remote, f"refs/heads/{branch}", branch, missing)


def _lookup(remote: RemoteRefs, full: str, label: str, missing: str) -> Resolved:
    commit = remote.refs.get(full)
    if commit is None:
        raise RefNotFound(missing or f"couldn't find remote ref '{full}'")
    return Resolved(full, commit, f"{label}@sha1:{commit}")

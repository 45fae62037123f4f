"""``tide plan --revision REF``: preview a Git revision before it merges.

For a branch, tag or commit of a GitRepository's remote that is not (yet) what the cluster runs,
fetch it with the GitRepository's own URL and credentials, turn it into the artifact the source
controller would store (its ignore rules applied), and for every Kustomization that uses that
GitRepository show, object by object, what applying that revision would change in the live
cluster — prunes included, Secret values masked — through the same build and server-side dry run
as ``tide diff``. Nothing is written: not to the cluster, not to the remote.

Exit codes: 0 the revision changes nothing, 1 it changes something, 2 an error (the revision or
source cannot be found or fetched, or a Kustomization does not build — its message is printed).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from tide.api import kinds
from tide.artifacts import build_archive, extract_archive, load_rules
from tide.cli._session import ClusterOptions, CommandError, cluster_command, out, run_command
from tide.cli.diff import Differences, changes_for
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type
from tide.source.git.auth import GitAuth, GitAuthError
from tide.source.git.command import GitCommandError
from tide.source.git.refs import RefNotFound, RemoteRefs, Resolved, resolve
from tide.source.git.remotes import GitRemotes

__all__ = ["resolve_revision", "run"]

_COMMIT = re.compile(r"[0-9a-f]{40}")


def resolve_revision(revision: str, remote: RemoteRefs) -> Resolved:
    """Return the commit ``revision`` names: a full sha, a ``refs/…`` name, a branch or a tag.

    Raises:
        CommandError: no branch, tag or reference of that name exists on the remote.
    """
    if _COMMIT.fullmatch(revision):
        return resolve({"commit": revision}, remote)
    candidates = [{"name": revision}] if revision.startswith("refs/") else [
        {"branch": revision}, {"tag": revision},
    ]  # fmt: skip
    for ref in candidates:
        try:
            return resolve(ref, remote)
        except RefNotFound:
            continue
    raise CommandError(
        f"revision '{revision}' is not a branch, tag or full commit sha on the remote"
    )


async def _auth(client: KubeClient, source: dict[str, Any]) -> GitAuth | None:
    spec = source.get("spec") or {}
    namespace = source["metadata"]["namespace"]
    secret_name = (spec.get("secretRef") or {}).get("name")
    if not secret_name:
        return None
    where = f"Secret '{namespace}/{secret_name}' (spec.secretRef)"
    secret = await client.get_or_none(resources.SECRET, secret_name, namespace=namespace)
    if secret is None:
        raise CommandError(f"{where} not found")
    try:
        return GitAuth.from_secret(secret.get("data") or {}, url=spec["url"], where=where)
    except GitAuthError as error:
        raise CommandError(str(error)) from None


def _artifact_tree(checkout: Path, scratch: Path, ignore: str | None) -> Path:
    """Unpack what the source controller would archive from ``checkout`` (ignore rules applied)."""
    archive = scratch / "artifact.tar.gz"
    build_archive(checkout, archive, load_rules(checkout, spec_ignore=ignore))
    tree = scratch / "artifact"
    extract_archive(archive, tree)
    return tree


def _uses(kustomization: dict[str, Any], source: dict[str, Any]) -> bool:
    ref = (kustomization.get("spec") or {}).get("sourceRef") or {}
    namespace = ref.get("namespace") or kustomization["metadata"]["namespace"]
    return (
        ref.get("kind") == "GitRepository"
        and ref.get("name") == source["metadata"]["name"]
        and namespace == source["metadata"]["namespace"]
    )


async def _plan(revision: str, source_name: str, options: ClusterOptions) -> None:
    any_change = False
    async with options.client(field_manager=kinds.KUSTOMIZE_CONTROLLER) as client:
        source = await client.get_or_none(
            resource_type("GitRepository"), source_name, namespace=options.namespace
        )
        if source is None:
            raise CommandError(
                f'GitRepository "{source_name}" not found in "{options.namespace}" namespace'
            )
        url = source["spec"]["url"]
        auth = await _auth(client, source)
        with tempfile.TemporaryDirectory(prefix="tide-plan-") as scratch:
            remotes = GitRemotes(Path(scratch) / "git")
            try:
                refs = await remotes.list_refs(url, auth, timeout=options.timeout)
                resolved = resolve_revision(revision, refs)
                checkout = await remotes.checkout(
                    url, auth, resolved, submodules=False, timeout=options.timeout
                )
            except GitCommandError as error:
                raise CommandError(f"cannot fetch '{revision}' from {url}: {error}") from None
            tree = await asyncio.to_thread(
                _artifact_tree, checkout, Path(scratch), source["spec"].get("ignore")
            )
            listed, _ = await client.list(resource_type("Kustomization"))
            users = sorted(
                (k for k in listed if _uses(k, source)),
                key=lambda k: (k["metadata"]["namespace"], k["metadata"]["name"]),
            )
            if not users:
                out.print(f"no Kustomization uses GitRepository {options.namespace}/{source_name}")
            for kustomization in users:
                meta = kustomization["metadata"]
                path = (kustomization.get("spec") or {}).get("path") or "./"
                title = f"Kustomization {meta['namespace']}/{meta['name']} ({path})"
                folder = tree / path.strip("/").removeprefix("./")
                changes = await changes_for(client, kustomization, folder, root=tree)
                if not changes:
                    out.print(f"✔ {title}: no changes at {resolved.revision}", markup=False)
                    continue
                any_change = True
                out.print(f"✎ {title} at {resolved.revision}:", markup=False)
                for change in changes:
                    out.print(change, markup=False, highlight=False, soft_wrap=True)
    if any_change:
        raise Differences


@cluster_command(timeout="2m")
def run(
    options: ClusterOptions,
    revision: Annotated[
        str, typer.Option("--revision", help="Branch, tag, refs/… name or full commit sha.")
    ],
    source: Annotated[
        str, typer.Option("--source", help="The GitRepository whose remote holds the revision.")
    ] = "flux-system",
) -> None:
    """Preview what a Git revision would change in the cluster, without writing anything."""
    try:
        run_command(_plan(revision, source, options), failure_code=2)
    except Differences:
        raise typer.Exit(1) from None

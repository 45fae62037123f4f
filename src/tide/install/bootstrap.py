"""``tide bootstrap git``: commit Tide's manifests to a repository, install, and sync from it.

The steps are Flux's, in Flux's order, and each may run again: clone the branch (or start it in
an empty repository), write ``<path>/flux-system/``, commit and push only when a file changed,
apply the install documents, wait for the controllers, store the credentials Secret, apply the
GitRepository and Kustomization ``flux-system``, and wait until both are Ready at the pushed
commit. From then on the cluster applies ``gotk-components.yaml`` from Git itself, so
upgrading Tide is a commit (or running bootstrap again with a newer ``tide``).

Git work goes through image automation's :class:`~tide.image.automation.workspace.Workspace`
(the real ``git`` command, credentials in a private folder and environment, never on a command
line, pushes never forced) instead of a second clone-commit-push of our own: it already does
exactly this for ImageUpdateAutomation, against the same servers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tide.image.automation.workspace import Author, Workspace, workspace
from tide.install.apply import apply_documents, wait_available
from tide.install.check import Verdict
from tide.install.credentials import GitCredentials, secret_manifest
from tide.install.manifests import InstallOptions, render
from tide.install.sync import SyncOptions, render_files, render_sync
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.source.git.command import redact

__all__ = ["BootstrapError", "BootstrapOptions", "Report", "bootstrap_git"]

Report = Callable[[Verdict, str], None]
"""Where progress goes: ``INFO`` for a step starting, ``OK`` for one done."""

_POLL_SECONDS = 0.5


class BootstrapError(RuntimeError):
    """A step cannot finish; the message names the step and the object (never a secret)."""


@dataclass(frozen=True)
class BootstrapOptions:
    """What ``tide bootstrap git`` was asked to do.

    Attributes:
        url: the repository's clone URL, without credentials.
        branch: the branch to commit to and follow.
        path: the repository folder the cluster's Kustomization applies.
        install: the install flags (namespace, components, registry...).
        credentials: how to reach the repository; none for a public one.
        author: who the commit is by.
        timeout: seconds each wait (git command, controllers, sync objects) may take.
        secret_name: the credentials Secret's name; ``flux-system`` by default, as Flux's.
    """

    url: str
    branch: str
    path: str
    install: InstallOptions = field(default_factory=InstallOptions)
    credentials: GitCredentials = field(default_factory=GitCredentials)
    author: Author = field(default_factory=lambda: Author(name="Tide", email="tide@localhost"))
    timeout: float = 300.0
    secret_name: str = "flux-system"

    @property
    def sync(self) -> SyncOptions:
        """Return the GitRepository and Kustomization this bootstrap makes."""
        return SyncOptions(
            url=self.url,
            branch=self.branch,
            path=self.path,
            namespace=self.install.namespace,
            secret_ref=None if self.credentials.empty else self.secret_name,
        )


async def bootstrap_git(client: KubeClient, options: BootstrapOptions, *, report: Report) -> str:
    """Run the bootstrap; return the commit the cluster now follows.

    Raises:
        BootstrapError: the controllers or the sync objects did not become ready in time.
        tide.install.manifests.InstallError: the install options cannot be rendered.
        tide.install.credentials.CredentialsError: the credentials do not fit the URL.
        tide.source.git.command.GitCommandError: clone or push failed (credentials removed).
        tide.kube.errors.KubeError: the API server refused an object.
    """
    shown = redact(options.url)
    auth, secret_data = await options.credentials.resolve(options.url)
    components = render(options.install)
    files = render_files(components, options.sync)
    async with workspace(options.url, auth, timeout=options.timeout) as tree:
        report(Verdict.INFO, f'cloning branch "{options.branch}" from Git repository "{shown}"')
        head = await _check_out(tree, options.branch)
        report(Verdict.OK, "cloned repository" if head else f'starting branch "{options.branch}"')
        changed = _write(tree.folder, files)
        if changed:
            message = f"Add Tide {options.install.version} component and sync manifests"
            head = await tree.commit(changed, author=options.author, message=message)
            report(Verdict.OK, f'committed {len(changed)} files to "{options.branch}" ({head})')
            await tree.push([f"HEAD:refs/heads/{options.branch}"], options=None)
            report(Verdict.OK, f'pushed to "{shown}"')
        else:
            report(Verdict.OK, f'"{options.branch}" already holds these manifests; no commit')
    assert head is not None, "an unborn branch always gets the first commit"
    namespace = options.install.namespace
    report(Verdict.INFO, f'installing components in "{namespace}" namespace')
    try:
        await apply_documents(client, components, timeout=options.timeout)
        await wait_available(client, components, timeout=options.timeout)
    except TimeoutError as error:  # a CRD never established, or a Deployment never Available
        raise BootstrapError(str(error)) from None
    report(Verdict.OK, "installed components")
    if secret_data:
        secret = secret_manifest(options.secret_name, namespace, secret_data)
        await client.apply(resources.SECRET, secret)
        report(Verdict.OK, f'applied source secret "{namespace}/{options.secret_name}"')
    for document in render_sync(options.sync):
        await client.apply(resources.resource_type(document["kind"]), document)
    report(Verdict.OK, "applied sync manifests")
    for kind in ("GitRepository", "Kustomization"):
        report(Verdict.INFO, f'waiting for {kind} "{namespace}/flux-system" to be reconciled')
        await _wait_synced(client, kind, namespace, head, timeout=options.timeout)
        report(Verdict.OK, f"{kind} reconciled successfully")
    return head


async def _check_out(tree: Workspace, branch: str) -> str | None:
    """Check out ``branch``; in an empty repository (or a new branch) start it unborn."""
    refs = await tree.list_refs()
    commit = refs.refs.get(f"refs/heads/{branch}")
    if commit is None:
        await tree.rename_branch(branch)
        return None
    await tree.check_out(commit, branch=branch, fetch_ref=f"refs/heads/{branch}")
    return commit


def _write(folder: Path, files: dict[str, str]) -> list[str]:
    """Write each file whose content differs; return the paths written."""
    changed = []
    for path, content in files.items():
        target = folder / path
        if target.is_file() and target.read_text() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        changed.append(path)
    return changed


async def _wait_synced(
    client: KubeClient, kind: str, namespace: str, commit: str, *, timeout: float
) -> None:
    """Wait until ``kind`` flux-system is Ready for this generation and at ``commit``."""
    rt = resources.resource_type(kind)
    field_name = "lastAppliedRevision" if kind == "Kustomization" else "artifact"
    deadline = time.monotonic() + timeout
    last = "no status yet"
    while time.monotonic() < deadline:
        obj = await client.get_or_none(rt, "flux-system", namespace=namespace)
        status = (obj or {}).get("status") or {}
        revision = status.get(field_name) or {}
        revision = revision.get("revision", "") if isinstance(revision, dict) else revision
        ready = next((c for c in status.get("conditions") or () if c["type"] == "Ready"), None)
        current = obj is not None and status.get("observedGeneration") == obj["metadata"].get(
            "generation"
        )
        if ready is not None:
            last = f"Ready={ready['status']} {ready.get('reason', '')}: {ready.get('message', '')}"
        if current and ready and ready["status"] == "True" and str(revision).endswith(commit):
            return
        await asyncio.sleep(_POLL_SECONDS)
    raise BootstrapError(
        f"{kind} {namespace}/flux-system not reconciled at {commit[:12]} after {timeout:.0f}s; "
        f"last: {last}"
    )

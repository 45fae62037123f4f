"""One automation run in a private clone: pick the base, apply setters, commit, push.

The base of the commit: the push branch when it already exists (so later runs build on the
automation's own earlier commits, as Flux does), else the checkout ref. A templated push branch
(Tide's: one branch per update, e.g. ``image-updates/{{ .AutomationObject.Name }}-…``) is only
known once the changes are, so such a run applies the setters on the checkout ref first, renders
the branch name, and re-applies them on that branch if it already exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tide.api import conditions, reasons
from tide.api.image import ImageUpdateAutomation
from tide.image.automation import message
from tide.image.automation.gitsource import GitSource
from tide.image.automation.signing import SigningKey, gpg_signer
from tide.image.automation.update import PolicyState, UpdateResult, apply_policies
from tide.image.automation.workspace import Author, Workspace, workspace
from tide.runtime.steps import Progress, Stalled
from tide.source.git.refs import resolve

__all__ = ["Plan", "RunResult", "execute"]


@dataclass(frozen=True, repr=False)
class Plan:
    """Everything a run needs, read from the automation and its GitRepository."""

    name: str
    namespace: str
    generation: int | None
    source: GitSource
    checkout_ref: dict[str, str]
    checkout_branch: str | None
    push_branch: str
    """A branch name, or a Go template of one."""
    refspec: str | None
    options: Mapping[str, str]
    path: str
    author: Author
    message_template: str | None
    message_values: Mapping[str, str]
    forced: bool
    """A ``requestedAt`` asked for a full run, even with nothing new."""
    signing: SigningKey | None = None

    @classmethod
    def of(
        cls,
        automation: ImageUpdateAutomation,
        source: GitSource,
        *,
        forced: bool,
        signing: SigningKey | None = None,
    ) -> Plan:
        """Read the plan from ``automation``; ``spec.git`` must be set.

        Raises:
            Stalled: no push branch can be told (``InvalidSourceConfiguration``).
        """
        spec = automation.spec
        assert spec.git is not None
        git = spec.git
        ref = source.ref
        if git.checkout is not None:
            dumped = git.checkout.ref.model_dump(by_alias=True)
            ref = {k: v for k, v in dumped.items() if v}
        has_other = any(ref.get(key) for key in ("tag", "semver", "name", "commit"))
        checkout_branch = ref.get("branch") or (None if has_other else "master")
        push = git.push.branch if git.push and git.push.branch else checkout_branch
        if not push:
            raise Stalled(
                "push spec not provided, and cannot be inferred from .spec.git.checkout.ref or "
                "GitRepository .spec.ref",
                reason=reasons.INVALID_SOURCE_CONFIGURATION,
            )
        author = git.commit.author
        return cls(
            name=automation.metadata.name,
            namespace=automation.metadata.namespace or "default",
            generation=automation.metadata.generation,
            source=source,
            checkout_ref=ref,
            checkout_branch=checkout_branch,
            push_branch=push,
            refspec=git.push.refspec if git.push and git.push.refspec else None,
            options=dict(git.push.options or {}) if git.push else {},
            path=(spec.update.path if spec.update else None) or "",
            author=Author(author.name or author.email, author.email),  # git needs a name
            message_template=git.commit.message_template,
            message_values=dict(git.commit.message_template_values or {}),
            forced=forced,
            signing=signing,
        )

    @property
    def templated(self) -> bool:
        """Whether the push branch is a template, rendered from each run's changes."""
        return "{{" in self.push_branch


@dataclass
class RunResult:
    """What a run did."""

    observed_revision: str
    skipped_run: bool = False
    """Nothing new since the last run: nothing was cloned."""
    skipped_markers: list[str] = field(default_factory=list)
    pushed: str | None = None
    """The sha pushed, if any."""
    pushed_branches: set[str] = field(default_factory=set)
    push_summary: str = ""
    message: str = ""


async def execute(
    plan: Plan, state: PolicyState, *, status: dict[str, Any], progress: Progress
) -> RunResult:
    """Run the automation; see the module docstring for which branch the commit lands on.

    Raises:
        GitCommandError: a clone, fetch or push failed (``PushRejected`` for a refused push).
        RefNotFound: the checkout ref is not on the remote.
        TemplateError: the message or branch template fails.
        ValueError / FileNotFoundError: ``spec.update.path`` is unusable.
    """
    source = plan.source
    async with workspace(
        source.url, source.auth, timeout=source.timeout, proxy=source.proxy
    ) as tree:
        refs = await tree.list_refs()
        checkout = resolve(plan.checkout_ref, refs)
        branch, commit, fetch_ref = plan.checkout_branch, checkout.commit, checkout.fetch_ref
        revision = checkout.revision
        existing = refs.refs.get(f"refs/heads/{plan.push_branch}")
        if not plan.templated and plan.push_branch != branch and existing:
            branch, commit, fetch_ref = plan.push_branch, existing, f"refs/heads/{plan.push_branch}"
            revision = f"{branch}@sha1:{commit}"
        if not plan.forced and _unchanged(status, state, revision, plan.generation):
            return RunResult(observed_revision=revision, skipped_run=True)
        await progress.mark(f"updating images in '{revision}'", new_work=True)
        work_branch = plan.push_branch if not plan.templated else (branch or "image-updates")
        await tree.check_out(commit, branch=work_branch, fetch_ref=fetch_ref)
        result = apply_policies(tree.folder, plan.path, state)
        target = work_branch
        if plan.templated and result.files:  # a name from no changes would name nothing
            target = await _render_branch(plan, tree, result)
            found = refs.refs.get(f"refs/heads/{target}")
            if result.files and target != plan.checkout_branch and found:
                await tree.check_out(found, branch=target, fetch_ref=f"refs/heads/{target}")
                result = apply_policies(tree.folder, plan.path, state)
            else:
                await tree.rename_branch(target)
        text = message.render(plan.message_template, _data(plan, result))
        outcome = RunResult(observed_revision=revision, skipped_markers=result.skipped)
        if not result.files:
            return outcome
        sha = await _commit(plan, tree, result, text)
        refspecs = [f"refs/heads/{target}:refs/heads/{target}"]
        if plan.refspec:
            refspecs.append(plan.refspec)
        await tree.push(refspecs, options=plan.options)
        outcome.pushed, outcome.message = sha, text
        outcome.pushed_branches = {_branch_of(spec.rpartition(":")[2]) for spec in refspecs}
        outcome.push_summary = f"pushed commit '{sha[:7]}' to branch '{target}'"
        if plan.refspec:
            outcome.push_summary += f" and using refspec '{plan.refspec}'"
        if not plan.templated:
            outcome.observed_revision = f"{target}@sha1:{sha}"
        return outcome


async def _commit(plan: Plan, tree: Workspace, result: UpdateResult, text: str) -> str:
    if plan.signing is None:
        return await tree.commit(result.repo_paths, author=plan.author, message=text)
    async with gpg_signer(plan.signing) as signer:
        return await tree.commit(result.repo_paths, author=plan.author, message=text, signer=signer)


def _data(plan: Plan, result: UpdateResult) -> dict[str, Any]:
    return message.template_data(
        result, name=plan.name, namespace=plan.namespace, values=plan.message_values
    )


async def _render_branch(plan: Plan, tree: Workspace, result: UpdateResult) -> str:
    rendered = message.render(plan.push_branch, _data(plan, result)).strip()
    if not await tree.valid_branch(rendered):
        raise Stalled(
            f"spec.git.push.branch rendered '{rendered}', which is not a valid branch name",
            reason=reasons.INVALID_TEMPLATE,
        )
    return rendered


def _branch_of(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def _unchanged(
    status: dict[str, Any], state: PolicyState, revision: str, generation: int | None
) -> bool:
    """Tell whether the last successful run saw the same generation, policies and revision."""
    ready = conditions.find(status, reasons.READY) or {}
    observed = {k: dict(v) for k, v in state.latest.items()} or None
    return (
        ready.get("status") == "True"
        and status.get("observedGeneration") == generation
        and status.get("observedSourceRevision") == revision
        and (status.get("observedPolicies") or None) == observed
    )

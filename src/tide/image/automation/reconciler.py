"""ImageUpdateAutomation reconcile: source → policies → clone → setters → commit → push → report.

Outcomes, as Flux reports them: a missing GitRepository or Secret, a branch that is not there, an
unreachable remote and a refused push are ``Ready=False`` (``InvalidSourceConfiguration``,
``GitOperationFailed``, ``UpdateFailed``…) and retried with backoff; a cross-namespace reference
the controller blocks, a bad policy selector and a template Go cannot run stall. When neither the
selected policies' images nor the remote branch moved since the last run, nothing is cloned
("no change since last reconciliation"). A commit is made only when a marked value changed, and
pushed without force; a push to the branch the GitRepository follows asks it to fetch at once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from tide import gotemplate
from tide.api import reasons
from tide.api.image import ImageUpdateAutomation
from tide.api.keys import REQUESTED_AT
from tide.image.automation import policies
from tide.image.automation.gitsource import GitSource, read_source
from tide.image.automation.run import Plan, execute
from tide.image.automation.signing import SigningError, SigningKey
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import Outcome, Progress, Stalled, StepFailed, Succeeded, parse_object
from tide.source.git.command import GitCommandError, redact
from tide.source.git.push import PushRejected
from tide.source.git.refs import RefNotFound

__all__ = ["UP_TO_DATE", "AutomationPipeline"]

UP_TO_DATE = "repository up-to-date"
"""Ready's message after a successful run (Flux's words)."""
_GIT_REPOSITORY = resource_type("GitRepository")


@dataclass(kw_only=True, eq=False)
class AutomationPipeline:
    """Steps of an ImageUpdateAutomation reconcile, a keyword-only dataclass of what it is built
    with."""

    marks_progress = True

    client: KubeClient
    """Reads Git credentials and signing keys; asks the GitRepository to fetch what was pushed."""
    git_repositories: WatchCache
    """The GitRepository watch cache (``spec.sourceRef``)."""
    image_policies: WatchCache
    """The ImagePolicy watch cache (``spec.policySelector``)."""
    reference_policy: ReferencePolicy
    """The ``--no-cross-namespace-refs`` rule."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Commit and push the selected policies' images into the marked files."""
        automation = parse_object(ImageUpdateAutomation, obj)
        spec, namespace = automation.spec, automation.metadata.namespace or "default"
        if spec.git is None:
            raise Stalled("spec.git is required", reason=reasons.INVALID_SOURCE_CONFIGURATION)
        source = await read_source(
            automation,
            client=self.client,
            cache=self.git_repositories,
            policy=self.reference_policy,
        )
        state = policies.select(self.image_policies, namespace, spec.policy_selector)
        signing = await self._signing_key(automation)
        plan = Plan.of(automation, source, forced=_requested(obj), signing=signing)
        try:
            result = await execute(plan, state, status=status, progress=progress)
        except gotemplate.TemplateError as error:
            raise Stalled(str(error), reason=reasons.INVALID_TEMPLATE) from error
        except (GitCommandError, RefNotFound) as error:
            reason = getattr(error, "reason", reasons.GIT_OPERATION_FAILED)
            raise StepFailed(_git_failure(source, error), reason=reason) from error
        except SigningError as error:
            raise StepFailed(str(error), reason=reasons.GIT_OPERATION_FAILED) from error
        except (ValueError, FileNotFoundError) as error:
            raise StepFailed(str(error), reason=reasons.UPDATE_FAILED) from error
        if result.skipped_run:  # nothing new: nothing to write either
            previous = _ready_message(obj)
            return Succeeded(reason=reasons.SUCCEEDED, message=previous or UP_TO_DATE)
        now = _now()
        status["lastAutomationRunTime"] = now
        observed = {k: dict(v) for k, v in sorted(state.latest.items())}
        if observed:
            status["observedPolicies"] = observed
        else:
            status.pop("observedPolicies", None)
        status["observedSourceRevision"] = result.observed_revision
        ready = UP_TO_DATE
        if result.skipped_markers:
            skipped = "; ".join(result.skipped_markers)
            ready += f"; skipped markers: {skipped}"
            await progress.event(
                reasons.MARKERS_SKIPPED, f"skipped markers: {skipped}", warning=True
            )
        if result.pushed is None:
            return Succeeded(reason=reasons.SUCCEEDED, message=ready)
        status["lastPushCommit"] = result.pushed
        status["lastPushTime"] = now
        if source.watched_branch in result.pushed_branches:
            # Unique per push (two pushes in one second must both be fetched).
            await self._request_fetch(source, f"{now} {result.pushed[:12]}")
        return Succeeded(
            reason=reasons.SUCCEEDED,
            message=ready,
            event_reason=reasons.SUCCEEDED,
            event_message=f"{result.push_summary}\n{result.message}",
        )

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Nothing to clean up: pushed commits stay in the repository's history."""

    async def _signing_key(self, automation: ImageUpdateAutomation) -> SigningKey | None:
        assert automation.spec.git is not None
        key = automation.spec.git.commit.signing_key
        if key is None:
            return None
        if key.type == "ssh":
            raise Stalled(
                "spec.git.commit.signingKey.type 'ssh' is not supported yet; use 'gpg'",
                reason=reasons.INVALID_CONFIG,
            )
        namespace = automation.metadata.namespace or "default"
        name = key.secret_ref.name
        where = f"Secret '{namespace}/{name}' (spec.git.commit.signingKey.secretRef)"
        secret = await self.client.get_or_none(resources.SECRET, name, namespace=namespace)
        if secret is None:
            raise StepFailed(f"{where} not found", reason=reasons.GIT_OPERATION_FAILED)
        try:
            return SigningKey.from_secret(secret.get("data") or {}, where=where)
        except SigningError as error:
            raise StepFailed(str(error), reason=reasons.GIT_OPERATION_FAILED) from error

    async def _request_fetch(self, source: GitSource, now: str) -> None:
        """Annotate the GitRepository so the source controller fetches the new commit at once."""
        patch = {"metadata": {"annotations": {REQUESTED_AT: now}}}
        await self.client.patch_merge(
            _GIT_REPOSITORY, source.name, patch, namespace=source.namespace
        )


def _git_failure(source: GitSource, error: Exception) -> str:
    url = redact(source.url)
    if isinstance(error, RefNotFound):
        return f"failed to checkout source: {error} in '{url}'"
    if isinstance(error, PushRejected):
        return f"{error} ('{url}')"
    return f"git operation on '{url}' failed: {error}"


def _requested(obj: dict[str, Any]) -> bool:
    requested = (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)
    handled = (obj.get("status") or {}).get("lastHandledReconcileAt")
    return requested is not None and requested != handled


def _ready_message(obj: dict[str, Any]) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == reasons.READY and condition.get("status") == "True":
            return condition.get("message")
    return None


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

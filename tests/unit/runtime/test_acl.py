"""``--no-cross-namespace-refs``: one rule, one message, for every kind that holds references."""

from __future__ import annotations

import pytest

from tide.api import reasons
from tide.runtime.acl import AccessDenied, ReferencePolicy, denied_message
from tide.runtime.reconcile import TerminalError
from tide.runtime.steps import Stalled

pytestmark = pytest.mark.unit

LOCKED = ReferencePolicy(no_cross_namespace_refs=True)


def test_a_reference_into_another_namespace_is_denied_in_fluxs_words() -> None:
    with pytest.raises(AccessDenied) as caught:
        LOCKED.resolve("tenant-b", kind="GitRepository", name="private", namespace="tenant-a")

    assert str(caught.value) == (
        "can't access 'GitRepository/tenant-a/private', "
        "cross-namespace references have been blocked"
    )
    assert caught.value.reason == reasons.ACCESS_DENIED == "AccessDenied"
    assert (caught.value.kind, caught.value.namespace, caught.value.name) == (
        "GitRepository",
        "tenant-a",
        "private",
    )


def test_a_denied_reference_stalls_and_is_never_retried() -> None:
    error = AccessDenied("Kustomization", "tenant-a", "infra")

    assert isinstance(error, Stalled)
    assert isinstance(error, TerminalError)


@pytest.mark.parametrize("namespace", [None, "", "tenant-b"])
def test_a_reference_within_the_own_namespace_resolves_to_it(namespace: str | None) -> None:
    resolved = LOCKED.resolve("tenant-b", kind="GitRepository", name="fleet", namespace=namespace)

    assert resolved == "tenant-b"
    assert LOCKED.allows("tenant-b", namespace)


def test_without_the_lockdown_references_may_cross_namespaces() -> None:
    open_policy = ReferencePolicy()

    resolved = open_policy.resolve(
        "tenant-b", kind="GitRepository", name="shared", namespace="flux-system"
    )

    assert resolved == "flux-system"
    assert open_policy.allows("tenant-b", "flux-system")
    assert not LOCKED.allows("tenant-b", "flux-system")


def test_the_message_names_kind_namespace_and_name() -> None:
    assert denied_message("HelmRelease", "a", "db") == (
        "can't access 'HelmRelease/a/db', cross-namespace references have been blocked"
    )

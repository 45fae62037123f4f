"""Where a Receiver's resources point, and the requestedAt value written on them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tide.api.notification import CrossNamespaceObjectReference
from tide.notification.targets import check_reference, requested_at_now
from tide.runtime.acl import ReferencePolicy

pytestmark = pytest.mark.unit

OPEN, LOCKED = ReferencePolicy(), ReferencePolicy(no_cross_namespace_refs=True)


def ref(**fields: object) -> CrossNamespaceObjectReference:
    return CrossNamespaceObjectReference.model_validate({"kind": "GitRepository", **fields})


def test_requested_at_is_rfc3339_utc_with_nanoseconds_and_now() -> None:
    stamp = requested_at_now()

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", stamp)
    written = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - written).total_seconds()) < 5


def test_the_namespace_defaults_to_the_receivers() -> None:
    rt, namespace = check_reference(ref(name="fleet"), "apps", OPEN)

    assert (rt.kind, rt.group, namespace) == ("GitRepository", "source.toolkit.fluxcd.io", "apps")


def test_an_older_api_version_of_the_same_group_is_accepted() -> None:
    rt, _ = check_reference(
        ref(name="fleet", apiVersion="source.toolkit.fluxcd.io/v1beta2"), "apps", OPEN
    )

    assert rt.version == "v1"


def test_an_api_version_of_another_group_is_refused() -> None:
    with pytest.raises(ValueError, match="is not in GitRepository's group"):
        check_reference(ref(name="fleet", apiVersion="example.com/v1"), "apps", OPEN)


def test_a_wildcard_needs_match_labels() -> None:
    with pytest.raises(ValueError, match="matchLabels must be set when name is '\\*'"):
        check_reference(ref(name="*"), "apps", OPEN)
    assert check_reference(ref(name="*", matchLabels={"a": "b"}), "apps", OPEN)[1] == "apps"


def test_another_namespace_is_refused_only_when_locked_down() -> None:
    assert check_reference(ref(name="x", namespace="other"), "apps", OPEN)[1] == "other"
    with pytest.raises(ValueError, match="cross-namespace references have been blocked"):
        check_reference(ref(name="x", namespace="other"), "apps", LOCKED)
    assert check_reference(ref(name="x", namespace="apps"), "apps", LOCKED)[1] == "apps"

"""Which Alerts an event reaches: Flux's severity, source, label and message rules."""

from __future__ import annotations

import pytest

from tests.unit.notification._events import alert, event
from tide.notification import matching

pytestmark = pytest.mark.unit


def selects(a, e, *, labels=None, locked=False) -> bool:
    sources = matching.sources_for(a, e, no_cross_namespace_refs=locked)
    return bool(sources) and matching.labels_match(sources, labels)


def test_an_error_alert_forwards_errors_and_drops_info() -> None:
    errors_only = alert(eventSeverity="error")

    assert matching.severity_passes(errors_only, event(severity="error"))
    assert not matching.severity_passes(errors_only, event(severity="info"))
    assert matching.severity_passes(alert(), event(severity="info"))


def test_a_source_without_namespace_is_the_alerts_own_namespace() -> None:
    a = alert(eventSources=[{"kind": "Kustomization", "name": "apps"}])

    assert selects(a, event())
    assert not selects(a, event(namespace="team-b"))
    assert not selects(a, event(name="infra"))
    assert not selects(a, event(kind="HelmRelease"))


def test_a_source_naming_another_namespace_selects_there_unless_locked_down() -> None:
    a = alert(eventSources=[{"kind": "Kustomization", "name": "*", "namespace": "team-b"}])

    assert selects(a, event(namespace="team-b"))
    assert not selects(a, event(namespace="team-a"))
    assert not selects(a, event(namespace="team-b"), locked=True)


def test_a_wildcard_namespace_selects_every_namespace_unless_locked_down() -> None:
    a = alert(eventSources=[{"kind": "Kustomization", "name": "*", "namespace": "*"}])

    assert selects(a, event(namespace="anything"))
    assert not selects(a, event(namespace="anything"), locked=True)


def test_match_labels_select_by_the_live_objects_labels() -> None:
    a = alert(eventSources=[{"kind": "Kustomization", "name": "*", "matchLabels": {"team": "a"}}])

    assert selects(a, event(), labels={"team": "a", "tier": "web"})
    assert not selects(a, event(), labels={"team": "b"})
    assert not selects(a, event(), labels=None)  # the object is gone


def test_exclusion_wins_over_inclusion() -> None:
    a = alert(inclusionList=[".*failed.*"], exclusionList=["missing resource"])

    assert not matching.message_passes(a, "kustomize build failed: missing resource")
    assert matching.message_passes(a, "apply failed: conflict")
    assert not matching.message_passes(a, "Reconciliation finished")


def test_a_pattern_that_does_not_compile_matches_nothing() -> None:
    assert matching.message_passes(alert(exclusionList=["("]), "anything")
    assert not matching.message_passes(alert(inclusionList=["("]), "anything")


def test_enrich_adds_event_metadata_summary_and_cluster_without_overriding_the_emitter() -> None:
    a = alert(eventMetadata={"env": "prod", "revision": "mine"}, summary="addons down")

    enriched = matching.enrich(a, event(metadata={"revision": "main@sha1:abc"}), cluster="eu-1")

    assert enriched.metadata == {
        "env": "prod", "revision": "main@sha1:abc", "summary": "addons down", "cluster": "eu-1"
    }  # fmt: skip


def test_an_alerts_event_metadata_may_name_the_cluster_itself() -> None:
    a = alert(eventMetadata={"cluster": "prod-eu"})

    assert matching.enrich(a, event(), cluster="default").metadata["cluster"] == "prod-eu"

"""``tide get`` columns and tables, from objects as the API server returns them."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from tide.cli import get
from tide.cli._nouns import find_noun, nouns
from tide.cli.events import EventFilter, age
from tide.inspect import rows as _rows

pytestmark = pytest.mark.unit


def ready(status: str, message: str) -> dict:
    return {"conditions": [{"type": "Ready", "status": status, "reason": "X", "message": message}]}


GIT = {
    "kind": "GitRepository",
    "metadata": {"name": "flux-system", "namespace": "flux-system"},
    "spec": {"interval": "1m"},
    "status": {
        "artifact": {"revision": "main@sha1:abc"},
        **ready("True", "stored artifact for revision 'main@sha1:abc'"),
    },
}
KS = {
    "kind": "Kustomization",
    "metadata": {"name": "apps", "namespace": "flux-system"},
    "spec": {"suspend": True},
    "status": {
        "lastAppliedRevision": "main@sha1:abc",
        **ready("False", "kustomize build\n  failed"),
    },
}


def test_a_source_row_shows_its_artifact_revision() -> None:
    row = _rows.row_of(GIT)
    assert row.extra == {"REVISION": "main@sha1:abc"}
    assert (row.ready, row.suspended) == ("True", False)
    assert _rows.columns_for("GitRepository") == (
        "NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE",
    )  # fmt: skip


def test_a_kustomization_row_shows_the_applied_revision_and_a_one_line_message() -> None:
    row = _rows.row_of(KS)
    assert row.as_json() == {
        "kind": "Kustomization", "namespace": "flux-system", "name": "apps",
        "revision": "main@sha1:abc", "suspended": True, "ready": "False",
        "message": "kustomize build failed",
    }  # fmt: skip


def test_helm_release_image_policy_and_automation_have_their_own_columns() -> None:
    release = {"kind": "HelmRelease", "metadata": {"name": "r"}, "status": {
        "history": [{"chartVersion": "4.8.3"}, {"chartVersion": "4.8.2"}]}}  # fmt: skip
    policy = {"kind": "ImagePolicy", "metadata": {"name": "p"}, "status": {
        "latestRef": {"name": "ghcr.io/org/app", "tag": "1.2.3"}}}  # fmt: skip
    assert _rows.row_of(release).extra == {"REVISION": "4.8.3"}
    assert _rows.row_of(policy).extra == {"IMAGE": "ghcr.io/org/app:1.2.3"}
    assert _rows.columns_for("ImageUpdateAutomation")[1] == "LAST RUN"
    assert _rows.columns_for("ImageRepository")[1] == "LAST SCAN"


def test_an_object_never_reconciled_reads_unknown_and_a_statusless_alert_reads_ready() -> None:
    fresh = _rows.row_of({"kind": "Kustomization", "metadata": {"name": "new"}})
    alert = _rows.row_of({"kind": "Alert", "metadata": {"name": "slack"}}, has_status=False)
    assert (fresh.ready, fresh.message) == ("Unknown", "waiting to be reconciled")
    assert (alert.ready, alert.extra) == ("True", {})


@pytest.mark.parametrize(("text", "kept"), [("ready=true", "True"), ("Ready=False", "False")])
def test_the_status_selector_keeps_rows_by_ready(text: str, kept: str) -> None:
    selector = _rows.StatusSelector.parse(text)
    rows = [_rows.row_of(GIT), _rows.row_of(KS)]
    assert [row.ready for row in rows if selector.keeps(row)] == [kept]


@pytest.mark.parametrize("text", ["healthy", "ready", "ready=maybe", "stalled=true"])
def test_a_malformed_status_selector_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected ready=true\|false\|unknown"):
        _rows.StatusSelector.parse(text)


def test_the_table_renders_flux_columns_at_a_fixed_width() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None)
    console.print(get.render_table("Kustomization", [_rows.row_of(KS)], with_namespace=True))
    assert [line.rstrip() for line in buffer.getvalue().splitlines()] == [
        "NAMESPACE    NAME  REVISION       SUSPENDED  READY  MESSAGE",
        "flux-system  apps  main@sha1:abc  True       False  kustomize build failed",
    ]


def test_every_served_kind_has_a_noun_and_flux_spellings_are_kept() -> None:
    paths = {noun.kind: noun.path for noun in nouns()}
    assert paths["GitRepository"] == "source git"
    assert paths["ImageUpdateAutomation"] == "image update"
    assert paths["Provider"] == "alert-provider"
    assert paths["ArtifactGenerator"] == "artifactgenerator"  # not in Flux's CLI: its own name
    assert find_noun("Kustomization").aliases == ("ks", "kustomization")


def test_events_for_one_object_or_every_flux_kind() -> None:
    event = {"involvedObject": {"kind": "Kustomization", "name": "apps"}}
    pod = {"involvedObject": {"kind": "Pod", "name": "apps"}}
    assert EventFilter.parse("kustomization/apps").keeps(event)
    assert not EventFilter.parse("Kustomization/other").keeps(event)
    assert EventFilter.parse(None).keeps(event) and not EventFilter.parse(None).keeps(pod)
    for bad in ("Kustomization", "/apps", "Pod/apps"):
        with pytest.raises(ValueError, match="--for"):
            EventFilter.parse(bad)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(5, "5s"), (119, "119s"), (130, "2m10s"), (600, "10m"), (3 * 3600 + 60, "3h"),
     (50 * 3600, "2d2h"), (10 * 86400, "10d")],
)  # fmt: skip
def test_event_ages_read_like_kubectl(seconds: int, shown: str) -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    then = datetime.fromtimestamp(now.timestamp() - seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert age(then, now=now) == shown


def test_depends_on_takes_flux_namespace_slash_name_comma_separated() -> None:
    from tide.cli.create import parse_depends_on

    assert parse_depends_on(["infra,other-ns/db", "cache"]) == [
        {"name": "infra"}, {"name": "db", "namespace": "other-ns"}, {"name": "cache"},
    ]  # fmt: skip


def test_only_kinds_a_controller_answers_can_be_reconciled_or_suspended() -> None:
    from typer.testing import CliRunner

    from tide.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["reconcile", "ks", "--help"]).exit_code == 0
    assert runner.invoke(app, ["suspend", "hr", "--help"]).exit_code == 0
    assert runner.invoke(app, ["reconcile", "source", "bucket", "--help"]).exit_code == 2
    assert runner.invoke(app, ["suspend", "source", "external", "--help"]).exit_code == 2

"""What the dashboard's pages say, from objects alone: states, counts, the chain, the graph."""

from __future__ import annotations

from typing import Any

import pytest

from tide.dashboard import graph, views

pytestmark = pytest.mark.unit


def obj(name: str, spec: dict[str, Any], ready: str | None, message: str = "", **status: Any):
    conditions = []
    if ready is not None:
        conditions = [{"type": "Ready", "status": ready, "reason": "R", "message": message}]
    return {
        "metadata": {"name": name, "namespace": "ns", "generation": 1},
        "spec": spec,
        "status": {"conditions": conditions, "observedGeneration": 1, **status},
    }


SOURCE = {"sourceRef": {"kind": "GitRepository", "name": "fleet"}}


def test_states_are_ready_failing_suspended_or_progressing() -> None:
    assert views.state(obj("a", {}, "True")) == "ready"
    assert views.state(obj("a", {}, "False")) == "failing"
    assert views.state(obj("a", {"suspend": True}, "True")) == "suspended"
    assert views.state(obj("a", {}, "Unknown")) == "progressing"
    assert views.state(obj("a", {}, None)) == "progressing"


def test_the_overview_counts_each_kind_by_state_and_leaves_out_empty_kinds() -> None:
    ks = [
        views.row("Kustomization", o) for o in (obj("a", SOURCE, "True"), obj("b", SOURCE, "False"))
    ]
    assert views.summary({"Kustomization": ks, "HelmRelease": []}) == [
        {"kind": "Kustomization", "total": 2, "ready": 1, "failing": 1, "suspended": 0,
         "progressing": 0},
    ]  # fmt: skip


def test_a_row_has_fluxs_revision_column_and_the_ready_message() -> None:
    shown = views.row(
        "Kustomization", obj("a", SOURCE, "True", "Applied revision: main@sha1:abc",
                             lastAppliedRevision="main@sha1:abc"),
    )  # fmt: skip
    assert shown["revision"] == "main@sha1:abc"
    assert shown["columns"] == {"REVISION": "main@sha1:abc"}
    assert shown["message"] == "Applied revision: main@sha1:abc"


def test_the_chain_runs_from_the_source_through_its_artifact_to_the_applied_revision() -> None:
    source = obj("fleet", {"url": "https://git.example/fleet"}, "True",
                 artifact={"revision": "main@sha1:new", "digest": "sha256:d"})  # fmt: skip
    kustomization = obj("a", SOURCE, "True", lastAppliedRevision="main@sha1:old",
                        lastAttemptedRevision="main@sha1:new")  # fmt: skip
    steps = views.chain_of("Kustomization", kustomization, ("GitRepository", "fleet", "ns", source))
    assert [(s["step"], s["label"]) for s in steps] == [
        ("source", "GitRepository/ns/fleet"),
        ("artifact", "main@sha1:new"),
        ("applied", "main@sha1:old"),
    ]
    assert steps[2]["attempted"] == "main@sha1:new"


def test_the_graph_puts_each_object_right_of_what_it_needs_and_marks_missing_ones() -> None:
    drawn = graph.build({
        "GitRepository": [obj("fleet", {}, "True")],
        "Kustomization": [
            obj("infra", SOURCE, "True"),
            obj("apps", {**SOURCE, "dependsOn": [{"name": "infra"}]}, "False"),
            obj("lost", {"sourceRef": {"kind": "OCIRepository", "name": "gone"}}, "False"),
        ],
    })  # fmt: skip
    graph.layout(drawn)
    layer = {key[2]: node.layer for key, node in drawn.nodes.items()}
    assert layer == {"fleet": 0, "gone": 0, "infra": 1, "lost": 1, "apps": 2}
    assert drawn.nodes[("OCIRepository", "ns", "gone")].state == "missing"
    svg = graph.render(drawn)
    assert svg.count('class="node ') == 5
    assert svg.count('class="edge depends"') == 1
    assert 'class="node failing" data-ref="Kustomization/ns/apps: failing"' in svg


def test_names_in_the_graph_are_escaped() -> None:
    drawn = graph.build({"GitRepository": [obj("<b>&", {}, "True")]})
    graph.layout(drawn)
    assert "&lt;b&gt;&amp;" in graph.render(drawn)

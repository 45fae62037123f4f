"""The Helm post-renderer program: kustomize steps in order, then common metadata."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tide import yamlio
from tide.kustomize.postrender import ERROR_SUFFIX, main, render

pytestmark = pytest.mark.unit

MANIFESTS = """\
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data: {mode: a}
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.0}]}
"""


def test_steps_run_in_order_and_common_metadata_touches_metadata_only() -> None:
    first = {"target": {"kind": "ConfigMap"}, "patch": "- {op: add, path: /data/step, value: '1'}"}
    second = {
        "target": {"kind": "ConfigMap"},
        "patch": "- {op: replace, path: /data/step, value: '2'}",
    }
    spec = {
        "steps": [
            {"patches": [first], "images": [{"name": "nginx", "newTag": "2.0"}]},
            {"patches": [second]},
        ],
        "labels": {"team": "blue"},
        "annotations": {"owner": "me"},
    }
    objects = {o["kind"]: o for o in yamlio.load_all(render(MANIFESTS, spec)) if o}
    assert objects["ConfigMap"]["data"] == {"mode": "a", "step": "2"}
    deployment = objects["Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2.0"
    assert deployment["metadata"]["labels"] == {"team": "blue"}
    assert deployment["metadata"]["annotations"] == {"owner": "me"}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "web"}


def test_a_failure_exits_1_and_leaves_its_message_beside_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = "- {op: replace, path: /data/no/such, value: 1}"
    broken = {"target": {"kind": "ConfigMap"}, "patch": patch}
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"steps": [{"patches": [broken]}]}))
    monkeypatch.setattr("sys.stdin", io.StringIO(MANIFESTS))
    assert main([str(spec)]) == 1
    message = Path(f"{spec}{ERROR_SUFFIX}").read_text()
    assert message.startswith("post-renderer: kustomize build failed:")
    assert "/data/no/such" in message

"""The Setters strategy rewrites only the marked scalars: every other byte stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.image.automation import setters
from tide.image.automation.message import DEFAULT_MESSAGE, render, template_data
from tide.image.automation.update import PolicyState, apply_policies

pytestmark = pytest.mark.unit

REF = {"name": "ghcr.io/org/app", "tag": "2.0.0"}
DIGEST = "sha256:" + "a" * 64


def state(**latest: dict[str, str]) -> PolicyState:
    names = set(latest) | {"empty"}
    return PolicyState(namespace="flux-system", latest=latest, selected=names, existing=names)


def rewrite(text: str, ref: dict[str, str] = REF) -> setters.Rewrite:
    markers = setters.find_markers(text)
    values = {m.start: setters.value_for(ref, m.field) for m in markers}
    return setters.rewrite(text, markers, {k: v for k, v in values.items() if v})


def test_whole_image_marker_changes_only_the_value() -> None:
    text = (
        "# leading comment\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata: {name: app, namespace: default}  # flow style stays\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name:   app\n"
        '          image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
        "          args: ['--x',   \"--y\"]\n"
    )
    result = rewrite(text)
    assert result.text == text.replace("app:1.0.0", "app:2.0.0")
    [(obj, change)] = result.changes
    assert obj.key() == "Deployment/default/app"
    assert change == setters.Change(
        "ghcr.io/org/app:1.0.0", "ghcr.io/org/app:2.0.0", "flux-system:app"
    )


def test_helm_values_name_and_tag_markers_keep_quotes_and_comments() -> None:
    text = (
        "image:\n"
        '  repository: "ghcr.io/org/old"   # {"$imagepolicy": "flux-system:app:name"}\n'
        '  tag: \'1.0.0\' # {"$imagepolicy": "flux-system:app:tag"}\n'
        "  pullPolicy: IfNotPresent # not a marker\n"
    )
    result = rewrite(text)
    assert result.text == (
        "image:\n"
        '  repository: "ghcr.io/org/app"   # {"$imagepolicy": "flux-system:app:name"}\n'
        '  tag: \'2.0.0\' # {"$imagepolicy": "flux-system:app:tag"}\n'
        "  pullPolicy: IfNotPresent # not a marker\n"
    )
    assert [c.setter for _, c in result.changes] == ["flux-system:app:name", "flux-system:app:tag"]


def test_digest_marker_and_whole_image_with_digest() -> None:
    text = (
        'digest: sha256:old # {"$imagepolicy": "flux-system:app:digest"}\n'
        'image: x:1 # {"$imagepolicy": "flux-system:app"}\n'
    )
    result = rewrite(text, {**REF, "digest": DIGEST})
    assert result.text == (
        f'digest: {DIGEST} # {{"$imagepolicy": "flux-system:app:digest"}}\n'
        f'image: ghcr.io/org/app:2.0.0@{DIGEST} # {{"$imagepolicy": "flux-system:app"}}\n'
    )


def test_crlf_line_endings_and_missing_trailing_newline_stay() -> None:
    text = 'a: 1\r\nimage: x:1 # {"$imagepolicy": "flux-system:app"}\r\nb: 2'
    assert (
        rewrite(text).text
        == 'a: 1\r\nimage: ghcr.io/org/app:2.0.0 # {"$imagepolicy": "flux-system:app"}\r\nb: 2'
    )


def test_multiline_flow_mapping_marker() -> None:
    text = 'image: {\n  tag: "1.0.0", # {"$imagepolicy": "flux-system:app:tag"}\n  x: y\n}\n'
    assert rewrite(text).text == text.replace('"1.0.0"', '"2.0.0"')


def test_keys_block_scalars_and_other_comments_are_not_markers() -> None:
    text = (
        'key: # {"$imagepolicy": "flux-system:app"}\n'
        "  nested: 1\n"
        'block: |  # {"$imagepolicy": "flux-system:app"}\n'
        "  x:1\n"
        'other: x:1 # {"$other": "flux-system:app"}\n'
        'bad: x:1 # {"$imagepolicy": "flux-system:app:colour"}\n'
        'quoted: \'x:1 # {"$imagepolicy": "flux-system:app"}\'\n'
    )
    assert setters.find_markers(text) == []
    assert rewrite(text).text == text


def test_unchanged_value_is_no_change() -> None:
    text = 'image: ghcr.io/org/app:2.0.0 # {"$imagepolicy": "flux-system:app"}\n'
    assert rewrite(text).changes == []


def test_tree_update_reports_missing_and_refless_policies(tmp_path: Path) -> None:
    deploy = tmp_path / "apps" / "deploy.yaml"
    deploy.parent.mkdir()
    original = (
        "---\nkind: Deployment\nmetadata:\n  name: app\n---\nkind: ConfigMap\n"
        "data:\n"
        '  a: x:1 # {"$imagepolicy": "flux-system:app"}\n'
        '  b: x:1 # {"$imagepolicy": "flux-system:gone"}\n'
        '  c: x:1 # {"$imagepolicy": "flux-system:empty"}\n'
        '  d: x:1 # {"$imagepolicy": "elsewhere:app"}\n'
    )
    deploy.write_text(original)
    (tmp_path / "apps" / "binary.yaml").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "apps" / "broken.yml").write_text("a: [unclosed\n")
    (tmp_path / "README.md").write_text('image: x:1 # {"$imagepolicy": "flux-system:app"}\n')
    result = apply_policies(tmp_path, "./apps", state(app=REF))
    assert deploy.read_text() == original.replace("a: x:1", "a: ghcr.io/org/app:2.0.0")
    assert result.repo_paths == ["apps/deploy.yaml"]
    assert list(result.files) == ["deploy.yaml"]
    assert result.skipped == [
        "deploy.yaml:9: ImagePolicy 'flux-system/gone' not found",
        "deploy.yaml:10: ImagePolicy 'flux-system/empty' has no latestRef yet",
    ]


def test_update_path_outside_the_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leaves the repository"):
        apply_policies(tmp_path, "../..", state())


def test_template_data_has_flux_shape_and_renders(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        "kind: Deployment\nmetadata: {name: app}\n"
        'image: x:1 # {"$imagepolicy": "flux-system:app"}\n'
    )
    result = apply_policies(tmp_path, "", state(app=REF))
    data = template_data(result, name="auto", namespace="flux-system", values={"env": "prod"})
    change = {"OldValue": "x:1", "NewValue": "ghcr.io/org/app:2.0.0", "Setter": "flux-system:app"}
    assert data == {
        "AutomationObject": {"Name": "auto", "Namespace": "flux-system"},
        "Changed": {
            "FileChanges": {"d.yaml": {"Deployment/app": [change]}},
            "Objects": {"Deployment/app": [change]},
            "Changes": [change],
        },
        "Values": {"env": "prod"},
    }
    template = (
        "{{ .AutomationObject.Name }} {{ .Values.env }}:"
        "{{ range $o, $c := .Changed.Objects }} {{ $o }}{{ end }}"
        "{{ range .Changed.Changes }} {{ .OldValue }} -> {{ .NewValue }}{{ end }}"
    )
    assert render(template, data) == "auto prod: Deployment/app x:1 -> ghcr.io/org/app:2.0.0"
    assert render(None, data) == DEFAULT_MESSAGE

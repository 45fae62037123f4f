"""Who waits for a release's objects: Tide (parked) or Helm (post hooks, cleanupOnFail)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.helm import hooks
from tide.helm.sdk import Options
from tide.testing import package_chart

pytestmark = pytest.mark.unit

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-hook
  annotations:
    %s
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: hook, image: busybox}]
"""


@pytest.mark.parametrize(
    "annotation",
    [
        '"helm.sh/hook": post-install',
        "helm.sh/hook: pre-install,post-upgrade",
        "'helm.sh/hook': 'post-rollback'",
        '"helm.sh/hook": {{ .Values.hookEvents | quote }}',
        '"helm.sh/hook": |',
        "helm.sh/hook:",
    ],
)
def test_a_post_hook_or_an_unreadable_hook_counts(annotation: str) -> None:
    assert hooks.template_has_post_hook(JOB % annotation)


@pytest.mark.parametrize(
    "annotation",
    [
        '"helm.sh/hook": pre-install,pre-upgrade',
        '"helm.sh/hook": test',
        '"helm.sh/hook-weight": "{{ .Values.weight }}"',
        '"helm.sh/hook-delete-policy": before-hook-creation',
        "team: payments",
    ],
)
def test_pre_hooks_tests_and_other_annotations_do_not_count(annotation: str) -> None:
    assert not hooks.template_has_post_hook(JOB % annotation)


def test_values_naming_a_hook_count_whatever_its_events() -> None:
    assert hooks.values_have_hooks({"job": {"annotations": {"helm.sh/hook": "pre-install"}}})
    assert hooks.values_have_hooks({"extra": ['metadata: {annotations: {"helm.sh/hook": x}}']})
    assert not hooks.values_have_hooks({"replicas": 2, "annotations": {"team": "payments"}})


def test_tide_waits_only_when_helm_would_wait_and_nothing_must_follow_its_wait() -> None:
    assert hooks.tide_waits(Options(), post_hooks=False)
    assert not hooks.tide_waits(Options(), post_hooks=True)
    assert hooks.tide_waits(Options(disable_hooks=True), post_hooks=True)  # Helm runs none
    assert not hooks.tide_waits(Options(wait=False), post_hooks=False)  # disableWait
    assert not hooks.tide_waits(Options(cleanup_on_fail=True), post_hooks=False)


def _chart(folder: Path, name: str, templates: dict[str, str]) -> Path:
    """A chart folder ``folder/name`` with ``templates``."""
    root = folder / name
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")
    for file_name, text in templates.items():
        (root / "templates" / file_name).write_text(text)
    return root


PLAIN = {"configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}


def test_a_chart_is_read_with_its_subchart_folders(tmp_path: Path) -> None:
    parent = _chart(tmp_path, "parent", PLAIN)
    assert not hooks.chart_has_post_hooks(parent)
    _chart(parent / "charts", "child", {"job.yaml": JOB % '"helm.sh/hook": post-install'})
    assert hooks.chart_has_post_hooks(parent)


def test_a_subchart_archive_inside_a_chart_archive_counts(tmp_path: Path) -> None:
    import helm_python as helm

    parent = _chart(tmp_path, "parent", PLAIN)
    templates = {"job.yaml": JOB % '"helm.sh/hook": post-upgrade'}
    package_chart("child", "1.0.0", parent / "charts", templates=templates)
    archive = Path(helm.package(parent, destination=tmp_path))
    assert archive.is_file()
    assert hooks.chart_has_post_hooks(archive)
    plain = Path(helm.package(_chart(tmp_path / "b", "plain", PLAIN), destination=tmp_path))
    assert not hooks.chart_has_post_hooks(plain)
    assert hooks.chart_has_post_hooks(plain, {"annotations": {"helm.sh/hook": "x"}})


def test_a_hook_in_the_charts_values_file_counts(tmp_path: Path) -> None:
    parent = _chart(tmp_path, "parent", PLAIN)
    (parent / "values.yaml").write_text('job:\n  annotations:\n    "helm.sh/hook": post-install\n')
    assert hooks.chart_has_post_hooks(parent)


def test_a_chart_that_does_not_load_counts_as_hooked(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    assert hooks.chart_has_post_hooks(tmp_path / "broken")

"""Make small, real Helm charts for tests: a chart folder on disk, packaged by Helm's own SDK.

Packaging and indexing go through ``helm-python-sdk`` (Helm v4's Go SDK behind a C ABI), so a
``.tgz`` and an ``index.yaml`` made here are byte-for-byte what ``helm package`` and ``helm repo
index`` make; nothing about Helm's archive layout or index fields is written by hand.

``helm_python`` is imported inside the functions: importing it loads Helm's Go runtime into the
process, which ``import tide.testing`` (control-plane users, the chart server's own process)
should not pay for.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_TEMPLATE", "index_directory", "package_chart"]

DEFAULT_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  chartVersion: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
"""
"""``templates/configmap.yaml`` of a chart made without ``templates``: one ConfigMap."""

_DEFAULT_VALUES: dict[str, Any] = {"greeting": "hello"}


def package_chart(
    name: str,
    version: str,
    destination: Path,
    *,
    app_version: str = "1.0.0",
    values: dict[str, Any] | None = None,
    templates: dict[str, str] | None = None,
) -> Path:
    """Write a minimal chart and package it with Helm; return ``destination/<name>-<version>.tgz``.

    The chart has ``Chart.yaml`` (apiVersion v2, type application), ``values.yaml`` and
    ``templates/``. The archive is written beside ``destination`` first and then renamed into
    place, so a server reading ``destination`` never sees half an archive.

    Args:
        name: chart name (also the archive's top folder, as Helm requires).
        version: chart version (SemVer).
        destination: folder for the archive; created if missing.
        app_version: ``appVersion`` in ``Chart.yaml`` (default ``"1.0.0"``).
        values: ``values.yaml`` content (default ``{"greeting": "hello"}``).
        templates: file name under ``templates/`` to template text (default: one ConfigMap,
            :data:`DEFAULT_TEMPLATE`, that renders ``.Values.greeting``).
    """
    import helm_python as helm

    destination.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".chart-", dir=destination.parent))
    try:
        chart_dir = scratch / name
        (chart_dir / "templates").mkdir(parents=True)
        chart_yaml = {
            "apiVersion": "v2",
            "name": name,
            "version": version,
            "appVersion": app_version,
            "description": f"A test chart made by tide.testing: {name}",
            "type": "application",
        }
        (chart_dir / "Chart.yaml").write_text(yaml.safe_dump(chart_yaml, sort_keys=False))
        chosen = _DEFAULT_VALUES if values is None else values
        (chart_dir / "values.yaml").write_text(yaml.safe_dump(chosen, sort_keys=False))
        for file_name, text in (templates or {"configmap.yaml": DEFAULT_TEMPLATE}).items():
            target = chart_dir / "templates" / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        packaged = Path(helm.package(chart_dir, destination=scratch))
        final = destination / packaged.name
        packaged.replace(final)
        return final
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def index_directory(directory: Path) -> dict[str, Any]:
    """Write ``directory/index.yaml`` for every ``*.tgz`` in it, as ``helm repo index`` does.

    Entries carry relative URLs (``<name>-<version>.tgz``), which Helm and Flux resolve against
    the repository URL, so the index does not depend on the port the server got. Returns the
    index as a dictionary.
    """
    import helm_python as helm

    return helm.repo_index_generate(directory)

"""Decide who waits for a release's objects: Tide, parked on shared watches, or Helm itself.

Helm's own wait (its ``watcher``, kstatus) starts informers per install — a list and a watch
of every Deployment, ReplicaSet, Pod, Service … of the namespace — and holds a Helm thread
until the objects are ready, so a thousand releases in one namespace cost a thousand times a
thousand. Tide can wait instead (:mod:`tide.helm.readiness`): Helm runs the action with its
``hookOnly`` wait (pre-hooks still run and are waited by Helm), and the reconcile parks on
one watch per kind. That is only the same thing when nothing in Helm has to come *after* the
objects are ready:

- a ``post-install`` / ``post-upgrade`` / ``post-rollback`` hook runs once Helm's wait is done,
  inside the action: such charts keep Helm's wait;
- ``cleanupOnFail`` needs Helm's own failure path (it deletes what the failed action made);
- ``disableWait`` asks for no wait at all.

Hooks are read from the chart as loaded, subcharts included, without rendering it: a
``helm.sh/hook`` whose value is not written out literally (a template expression, a value on
the next line) counts as a post hook, as does the annotation in any values file or in the
release's own values, where a chart may take its annotations from.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tide.helm.sdk import Options

__all__ = [
    "POST_HOOKS",
    "chart_has_post_hooks",
    "template_has_post_hook",
    "tide_waits",
    "values_have_hooks",
]

POST_HOOKS = frozenset({"post-install", "post-upgrade", "post-rollback"})
"""Hook events Helm runs after its wait: a chart with one keeps Helm's wait."""

_HOOK_KEY = "helm.sh/hook"
_HOOK_LINE = re.compile(r"""["']?helm\.sh/hook["']?\s*:(?P<value>.*)$""")
"""``helm.sh/hook: <value>`` (the key quoted or not), but not ``helm.sh/hook-weight`` …"""


def tide_waits(options: Options, *, post_hooks: bool) -> bool:
    """Whether Tide waits for the objects instead of Helm (see the module docstring).

    Args:
        options: the action's options (``wait``: not ``disableWait``; ``cleanup_on_fail``;
            ``disable_hooks``, under which Helm runs no hook at all).
        post_hooks: whether the chart may have post-install/upgrade/rollback hooks
            (:func:`chart_has_post_hooks`).
    """
    if not options.wait or options.cleanup_on_fail:
        return False
    return options.disable_hooks or not post_hooks


def template_has_post_hook(text: str) -> bool:
    """Whether a chart file (template, helper or values) may declare a post hook.

    Conservative: every ``helm.sh/hook`` key counts unless its value is written out on the
    same line without template syntax and names no post hook.
    """
    for line in text.splitlines():
        found = _HOOK_LINE.search(line)
        if found is None:
            continue
        value = found.group("value").split(" #")[0].strip()
        if not value or "{{" in value or value[0] in "|>&*!":
            return True  # not readable literally: a template, a block, an anchor
        events = {event.strip().strip("\"'").strip() for event in value.split(",")}
        if events & POST_HOOKS or "" in events:
            return True
    return False


def values_have_hooks(values: Any) -> bool:
    """Whether ``values`` (the release's) carry a ``helm.sh/hook`` key or mention one.

    A chart may copy annotations from its values (``{{ toYaml .Values.annotations }}``), so a
    hook annotation there counts as a post hook whatever its events.
    """
    if isinstance(values, Mapping):
        return any(
            _HOOK_KEY in str(key) or values_have_hooks(value) for key, value in values.items()
        )
    if isinstance(values, list):
        return any(values_have_hooks(item) for item in values)
    return isinstance(values, str) and _HOOK_KEY in values


def chart_has_post_hooks(chart: Path, values: Mapping[str, Any] | None = None) -> bool:
    """Whether the chart at ``chart`` (folder or archive), subcharts included, may run post hooks.

    Loads the chart with the SDK and reads every template and values file of it and of each
    subchart under ``charts/`` (folders and archives, to any depth). Blocking: run it in a
    thread. A chart the SDK cannot load counts as having hooks (Helm will say what is wrong).
    """
    import helm_python as helm

    if values is not None and values_have_hooks(values):
        return True
    try:
        with tempfile.TemporaryDirectory(prefix="tide-hooks-") as scratch:
            return any(template_has_post_hook(text) for text in _chart_texts(helm, chart, scratch))
    except helm.HelmError:
        return True


def _chart_texts(helm: Any, chart: Path, scratch: str) -> Iterator[str]:
    """The templates and values of ``chart`` and of its subcharts, as the SDK loads them."""
    root = chart
    if chart.is_file():  # an archive: its subcharts are only reachable unpacked
        target = Path(tempfile.mkdtemp(dir=scratch))
        helm.chart.expand(target, chart)
        folders = [p for p in target.iterdir() if (p / "Chart.yaml").is_file()]
        if len(folders) != 1:
            yield "helm.sh/hook: {{ unreadable }}"  # not a chart as expected: count it
            return
        root = folders[0]
    with helm.Chart.load(root) as loaded:
        for template in loaded.templates:
            yield template.get("data") or ""
    values = root / "values.yaml"
    if values.is_file():
        yield values.read_text(errors="replace")
    subcharts = root / "charts"
    if subcharts.is_dir():
        for entry in sorted(subcharts.iterdir()):
            if (entry / "Chart.yaml").is_file() or entry.suffix == ".tgz":
                yield from _chart_texts(helm, entry, scratch)

"""Render Go ``text/template`` templates with Sprig, through the Helm SDK's own engine.

Flux users write commit messages (ImageUpdateAutomation ``messageTemplate``) and Tide users write
notification bodies in Go's template language with Sprig functions. Re-implementing that language
in Python would drift from Go's in a hundred details (whitespace trimming, ``range`` over maps in
key order, Sprig's date layouts), so the template runs in the Helm SDK (``helm-python-sdk``),
which embeds Go's ``text/template`` and Sprig exactly as Helm renders charts.

How: the template becomes the only file of a throwaway chart and is rendered with the data as the
chart's values, wrapped in ``{{- with .Values -}}…{{- end -}}`` so ``.Changed``,
``.AutomationObject`` and the rest resolve at the top, as in Flux. The wrapper sits on the
template's first line, so line numbers in errors are the user's. Differences from plain Go, said
once: a missing key renders as the empty string (Helm's rule; Go prints ``<no value>``), ``$``
is Helm's root rather than the data, and Helm's extra functions (``include``, ``tpl``,
``toYaml``, ``required``) are available too. Data passes as JSON, so a value's fields are map keys:
``.Changed.Changes`` items read ``.OldValue``, ``.NewValue``, ``.Setter`` as in Flux.

Parsed charts are cached by the template's digest, so a template used on every event is loaded
once.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["TemplateError", "render"]

_CHART_YAML = "apiVersion: v2\nname: gotemplate\nversion: 0.1.0\n"
_TEMPLATE_FILE = "message.txt"
_OPEN = "{{- with .Values -}}"
_CLOSE = "{{- end -}}"
_HELM_PREFIX = re.compile(r"gotemplate/templates/" + re.escape(_TEMPLATE_FILE) + r":?")
_FIRST_LINE_COLUMN = re.compile(r"\(line 1:(\d+)\)")
_lock = threading.Lock()


class TemplateError(ValueError):
    """The template does not parse or fails to execute; the message is Go's, with the line."""


def render(template: str, data: Mapping[str, Any]) -> str:
    """Return ``template`` executed against ``data``.

    Raises:
        TemplateError: a parse or execution error, e.g. ``template parse error at (line 1):
            function "nope" not defined``.
    """
    import helm_python

    chart = _chart(hashlib.sha256(template.encode()).hexdigest(), template)
    try:
        rendered = chart.render(dict(data) or {"_": ""})
    except helm_python.HelmError as error:
        raise TemplateError(_clean(str(error))) from None
    return next(iter(rendered.values()), "")


@functools.lru_cache(maxsize=128)
def _chart(digest: str, template: str) -> Any:
    """Load a one-template chart for ``template`` (``digest`` is the cache key)."""
    import helm_python

    with _lock, tempfile.TemporaryDirectory(prefix=f"tide-gotemplate-{digest[:12]}-") as folder:
        root = Path(folder)
        (root / "templates").mkdir()
        (root / "Chart.yaml").write_text(_CHART_YAML)
        (root / "templates" / _TEMPLATE_FILE).write_text(_OPEN + template + _CLOSE)
        try:
            return helm_python.Chart.load(root)
        except helm_python.HelmError as error:
            raise TemplateError(_clean(str(error))) from None


def _clean(message: str) -> str:
    """Drop the throwaway chart's file name from Helm's message; give the user's line and column.

    The wrapper shifts columns on the first line only, by its own length.
    """
    message = _HELM_PREFIX.sub("line ", message).strip()
    message = _FIRST_LINE_COLUMN.sub(
        lambda match: f"(line 1:{max(1, int(match[1]) - len(_OPEN))})", message
    )
    return "template " + message

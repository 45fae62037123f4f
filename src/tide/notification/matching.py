"""Which Alerts an event goes to, and the event each of them sends: Flux's filtering rules.

An Alert sees an event when all of these hold (Flux's order, cheapest first):

- the Alert and its Provider are not suspended;
- the severity passes ``eventSeverity`` (``error`` forwards only error events);
- one ``eventSources`` entry names the event's kind, its name (or ``*``) and its namespace:
  the entry's ``namespace`` or, when it names none, the Alert's own; ``*`` is every namespace.
  With ``--no-cross-namespace-refs`` an entry naming another namespace (``*`` included) matches
  nothing, so a tenant cannot subscribe to another tenant's events;
- the object carries the entry's ``matchLabels`` (read from the live object by the caller);
- the message matches one ``inclusionList`` regex (when there is a list) and no
  ``exclusionList`` regex: exclusion wins.

Everything here is pure: the dispatcher reads the labels and passes them in. Patterns are
Python regular expressions, which agree with Go's RE2 on the syntax Flux's examples use.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace

from tide.api.notification import Alert, CrossNamespaceObjectReference
from tide.notification.providers.base import Event

__all__ = [
    "ANY",
    "enrich",
    "labels_match",
    "message_passes",
    "severity_passes",
    "sources_for",
]

log = logging.getLogger(__name__)

ANY = "*"
"""The wildcard of ``eventSources[].name`` and ``eventSources[].namespace``."""


def severity_passes(alert: Alert, event: Event) -> bool:
    """Tell whether ``event``'s severity is one ``alert`` forwards (``error`` → errors only)."""
    return alert.spec.event_severity == "info" or event.severity == "error"


def sources_for(
    alert: Alert, event: Event, *, no_cross_namespace_refs: bool = False
) -> list[CrossNamespaceObjectReference]:
    """Return the ``eventSources`` entries that name ``event``'s object, labels not yet checked."""
    own = alert.metadata.namespace or "default"
    obj = event.involved_object
    found = []
    for source in alert.spec.event_sources:
        namespace = source.namespace or own
        if no_cross_namespace_refs and namespace != own:
            log.debug(
                "Alert %s/%s: event source %s in namespace %s dropped: cross-namespace "
                "references are blocked",
                own, alert.metadata.name, source.kind, namespace,
            )  # fmt: skip
            continue
        if source.kind != obj.kind or namespace not in (ANY, obj.namespace):
            continue
        if source.name not in (ANY, obj.name):
            continue
        found.append(source)
    return found


def labels_match(
    sources: list[CrossNamespaceObjectReference], labels: Mapping[str, str] | None
) -> bool:
    """Tell whether one of ``sources`` selects an object with ``labels`` (None: it is gone).

    An entry without ``matchLabels`` selects by kind, name and namespace alone.
    """
    for source in sources:
        if not source.match_labels:
            return True
        if labels is not None and all(labels.get(k) == v for k, v in source.match_labels.items()):
            return True
    return False


def _compiled(patterns: list[str] | None) -> list[re.Pattern[str]]:
    """Compile ``patterns``; one that does not compile matches nothing (Flux logs and skips it)."""
    out = []
    for pattern in patterns or ():
        try:
            out.append(_compile(pattern))
        except re.error as error:
            log.warning("regular expression %r does not compile: %s", pattern, error)
    return out


def _compile(pattern: str) -> re.Pattern[str]:
    return _CACHE.get(pattern) or _CACHE.setdefault(pattern, re.compile(pattern))


_CACHE: dict[str, re.Pattern[str]] = {}


def message_passes(alert: Alert, message: str) -> bool:
    """Apply ``inclusionList`` then ``exclusionList`` (searched, not anchored)."""
    included = alert.spec.inclusion_list
    if included and not any(p.search(message) for p in _compiled(included)):
        return False
    return not any(p.search(message) for p in _compiled(alert.spec.exclusion_list))


def enrich(alert: Alert, event: Event, *, cluster: str = "") -> Event:
    """Return ``event`` with the Alert's metadata added, never overriding the emitter's keys.

    Added, in order of precedence after the emitter's own keys: ``spec.eventMetadata``,
    ``spec.summary`` as ``summary`` (Flux's deprecated field), then ``cluster`` from
    ``--cluster-name``.
    """
    added: dict[str, str] = {}
    if cluster:
        added["cluster"] = cluster
    if alert.spec.summary:
        added["summary"] = alert.spec.summary
    added.update(alert.spec.event_metadata or {})
    for key in set(added) & set(event.metadata):
        if added[key] != event.metadata[key]:
            log.info(
                "Alert %s/%s: metadata key %r is set by the emitter; its value is kept",
                alert.metadata.namespace, alert.metadata.name, key,
            )  # fmt: skip
    return replace(event, metadata={**added, **event.metadata})

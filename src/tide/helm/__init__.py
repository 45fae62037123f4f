"""The HelmRelease controller: Flux's ``helm.toolkit.fluxcd.io`` releases over the real Helm SDK.

The reconcile (:mod:`~tide.helm.reconciler`) finds the chart — a HelmChart it generates from
``spec.chart`` (:mod:`~tide.helm.chart`) or the one ``chartRef`` names — composes the values
(:mod:`~tide.helm.values`, read by :mod:`~tide.helm.inputs`), and lets
:mod:`~tide.helm.actions` decide whether Helm has anything to do: install, upgrade, remediate a
failure, recover a release an interrupted action left pending, or nothing at all. Every Helm
action goes through :mod:`~tide.helm.sdk`, so releases live where Helm keeps them and ``helm
list`` / ``helm history`` show them; ``postRenderers`` and ``commonMetadata`` run inside Helm's
install and upgrade through its post-render plugin hook (:mod:`~tide.helm.postrender`), and
:mod:`~tide.helm.ignore` keeps ``driftDetection.ignore`` fields out of drift checks. Where
nothing in Helm must follow its wait (:mod:`~tide.helm.hooks`), Tide waits for a release's
objects itself, parked on shared watches (:mod:`~tide.helm.readiness`).
"""

from tide.helm.naming import chart_name, release_name, shorten
from tide.helm.sdk import ActionError, Helm
from tide.helm.values import ValuesError, compose, config_digest

__all__ = [
    "ActionError",
    "Helm",
    "ValuesError",
    "chart_name",
    "compose",
    "config_digest",
    "release_name",
    "shorten",
]

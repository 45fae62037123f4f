"""Feature gates, as Flux's controllers take them: ``--feature-gates=Name=true,Other=false``.

A gate turns on behaviour that widens what the controller does on a tenant's say-so. The one
Tide knows, ``ObjectLevelWorkloadIdentity`` (Flux's name), lets an object name a ServiceAccount
whose token the controller mints and sends to an address the object gives: off by default,
because a tenant could otherwise point that address at their own server and collect a token.
"""

from __future__ import annotations

__all__ = ["GATES", "OBJECT_LEVEL_WORKLOAD_IDENTITY", "parse_feature_gates"]

OBJECT_LEVEL_WORKLOAD_IDENTITY = "ObjectLevelWorkloadIdentity"
"""Objects may act as a ServiceAccount they name (HelmRelease ``kubeConfig.configMapRef``)."""
GATES: dict[str, bool] = {OBJECT_LEVEL_WORKLOAD_IDENTITY: False}
"""Every gate Tide knows, with its default."""
_VALUES = {"true": True, "false": False}


def parse_feature_gates(text: str) -> frozenset[str]:
    """Return the gates ``text`` (``Name=true|false,...``) leaves enabled, defaults included.

    Raises:
        ValueError: an entry is not ``Name=true|false``, or names a gate Tide does not know.
    """
    enabled = {name for name, default in GATES.items() if default}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, sep, value = (piece.strip() for piece in entry.partition("="))
        if not sep or value.lower() not in _VALUES:
            raise ValueError(f"--feature-gates: '{entry}' must be Name=true or Name=false")
        if name not in GATES:
            raise ValueError(
                f"--feature-gates: unknown feature gate '{name}'; known: {', '.join(sorted(GATES))}"
            )
        if _VALUES[value.lower()]:
            enabled.add(name)
        else:
            enabled.discard(name)
    return frozenset(enabled)

"""NetworkPolicies in the shape of Flux's: the controllers' namespace is closed to other
namespaces except for metrics scraping and the webhook receiver, and open for egress.
"""

from __future__ import annotations

from typing import Any

from tide.api.kinds import NOTIFICATION_CONTROLLER
from tide.install._meta import metadata

__all__ = ["network_policies"]

_POLICY = "networking.k8s.io/v1"


def network_policies(
    components: list[str], *, namespace: str, version: str, metrics_port: int
) -> list[dict[str, Any]]:
    """Return ``allow-egress``, ``allow-scraping`` and (with notifications) ``allow-webhooks``."""

    def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        meta = metadata(name, namespace=namespace, version=version)
        return {"apiVersion": _POLICY, "kind": "NetworkPolicy", "metadata": meta, "spec": spec}

    found = [
        policy(
            "allow-egress",
            {
                "podSelector": {},
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{}],
                "policyTypes": ["Ingress", "Egress"],
            },
        ),
        policy(
            "allow-scraping",
            {
                "podSelector": {},
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {}}],
                        "ports": [{"port": metrics_port, "protocol": "TCP"}],
                    }
                ],
                "policyTypes": ["Ingress"],
            },
        ),
    ]
    if NOTIFICATION_CONTROLLER in components:
        found.append(
            policy(
                "allow-webhooks",
                {
                    "podSelector": {"matchLabels": {"app": NOTIFICATION_CONTROLLER}},
                    "ingress": [{"from": [{"namespaceSelector": {}}]}],
                    "policyTypes": ["Ingress"],
                },
            )
        )
    return found

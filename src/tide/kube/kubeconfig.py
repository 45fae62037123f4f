"""Accept a tenant's kubeconfig only in a shape that cannot reach into the controller.

A kubeconfig is more than an address and credentials: ``exec`` and ``auth-provider`` run
programs, ``tokenFile`` and the file-path fields read files — inside the controller, with its
rights. A Kustomization's or HelmRelease's ``kubeConfig`` Secret is written by whoever may
write Secrets in its namespace, so only inline material is accepted (the ``*-data`` fields, a
token, basic auth), and TLS verification cannot be switched off. Flux refuses ``exec`` and
insecure TLS by default for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["UnsafeKubeconfig", "check"]

_USER_FIELDS = frozenset(
    {"client-certificate-data", "client-key-data", "token", "username", "password"}
)
_CLUSTER_FIELDS = frozenset(
    {"server", "certificate-authority-data", "tls-server-name", "proxy-url", "extensions"}
)


class UnsafeKubeconfig(ValueError):
    """The kubeconfig uses a field that would run a program or read a file in the controller."""


def check(config: Mapping[str, Any]) -> None:
    """Raise :class:`UnsafeKubeconfig` naming the first field outside the safe shape."""
    for section, key, allowed in (
        ("users", "user", _USER_FIELDS),
        ("clusters", "cluster", _CLUSTER_FIELDS),
    ):
        for index, entry in enumerate(config.get(section) or []):
            body = (entry or {}).get(key) or {}
            if not isinstance(body, Mapping):
                raise UnsafeKubeconfig(f"{section}[{index}].{key} is not a mapping")
            for field, value in body.items():
                if field == "insecure-skip-tls-verify" and not value:
                    continue
                if field not in allowed:
                    raise UnsafeKubeconfig(
                        f"{section}[{index}].{key}.{field} is not allowed in a kubeConfig Secret "
                        "(only inline credentials: *-data fields, token, username/password; "
                        "TLS verification stays on)"
                    )

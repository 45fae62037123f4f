"""ServiceAccounts and RBAC, in the shape of Flux's ``rbac.yaml``.

- ``crd-controller-<ns>``: every controller may do anything with Flux's kinds and read the
  Secrets, ConfigMaps, ServiceAccounts and Namespaces they refer to, write Events and hold a
  leader-election Lease. Bound to every installed controller's ServiceAccount. It does not
  grant ``serviceaccounts/token``: minting tokens for any ServiceAccount would let any
  controller act as kustomize-controller's (a cluster-admin).
- ``cluster-reconciler-<ns>``: kustomize-controller and helm-controller apply arbitrary
  workloads, so they are bound to ``cluster-admin`` (Flux's default; tenants narrow it with
  ``serviceAccountName`` impersonation).
- ``flux-object-identity-<ns>``: only with the ``ObjectLevelWorkloadIdentity`` feature gate,
  ``create`` on ``serviceaccounts/token``, bound to helm-controller alone (the one controller
  that mints tokens, for ``spec.kubeConfig.configMapRef``).
- ``flux-view-<ns>`` / ``flux-edit-<ns>``: aggregated into the built-in ``view``, ``edit`` and
  ``admin`` roles so namespace users can see (and editors change) Flux objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tide.api.kinds import HELM_CONTROLLER, KINDS, KUSTOMIZE_CONTROLLER
from tide.install._meta import metadata
from tide.runtime.features import OBJECT_LEVEL_WORKLOAD_IDENTITY

__all__ = [
    "FLUX_GROUPS",
    "READ",
    "binding",
    "cluster_role",
    "flux_rules",
    "rbac_documents",
    "service_accounts",
]

FLUX_GROUPS = tuple(sorted({info.group for info in KINDS}))
"""Every API group Tide serves (the toolkit groups plus source-watcher's extensions group)."""
_RBAC = "rbac.authorization.k8s.io/v1"
_RECONCILERS = (KUSTOMIZE_CONTROLLER, HELM_CONTROLLER)
READ = ["get", "list", "watch"]
"""The read-only verbs."""
_MINT_TOKEN = {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}
"""A token for any ServiceAccount: as strong as the strongest one, so granted only on request."""


def service_accounts(
    components: Sequence[str], *, namespace: str, version: str
) -> list[dict[str, Any]]:
    """Return one ServiceAccount per controller, named as Flux names it."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(name, namespace=namespace, version=version, component=name),
        }
        for name in components
    ]


def rbac_documents(
    components: Sequence[str],
    *,
    namespace: str,
    version: str,
    feature_gates: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Return the ClusterRoles and ClusterRoleBindings for ``components`` in ``namespace``."""
    meta = {"namespace": namespace, "version": version, "namespaced": False}
    crd_controller = f"crd-controller-{namespace}"
    documents = [
        cluster_role(crd_controller, _controller_rules(), meta),
        binding(crd_controller, crd_controller, components, namespace, meta),
    ]
    reconcilers = [name for name in components if name in _RECONCILERS]
    if reconcilers:
        documents.append(
            binding(
                f"cluster-reconciler-{namespace}", "cluster-admin", reconcilers, namespace, meta
            )
        )
    if OBJECT_LEVEL_WORKLOAD_IDENTITY in feature_gates and HELM_CONTROLLER in components:
        identity = f"flux-object-identity-{namespace}"
        documents.append(cluster_role(identity, [dict(_MINT_TOKEN)], meta))
        documents.append(binding(identity, identity, [HELM_CONTROLLER], namespace, meta))
    documents.append(
        cluster_role(
            f"flux-edit-{namespace}",
            flux_rules(["create", "delete", "deletecollection", "patch", "update"]),
            meta,
            aggregate_to=("admin", "edit"),
        )
    )
    documents.append(
        cluster_role(
            f"flux-view-{namespace}",
            flux_rules(READ),
            meta,
            aggregate_to=("admin", "edit", "view"),
        )
    )
    return documents


def _controller_rules() -> list[dict[str, Any]]:
    return [
        *flux_rules(["*"]),
        {
            "apiGroups": [""],
            "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"],
            "verbs": READ,
        },
        # Events are recorded and then patched as they repeat (a count, not a new object).
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
    ]


def flux_rules(verbs: list[str]) -> list[dict[str, Any]]:
    """Return one rule per Flux API group granting ``verbs`` on every resource in it."""
    return [
        {"apiGroups": [group], "resources": ["*"], "verbs": list(verbs)} for group in FLUX_GROUPS
    ]


def cluster_role(
    name: str,
    rules: list[dict[str, Any]],
    meta: dict[str, Any],
    *,
    aggregate_to: Sequence[str] = (),
) -> dict[str, Any]:
    """Return a ClusterRole; ``aggregate_to`` names built-in roles it is aggregated into."""
    role_meta = metadata(name, **meta)
    for role in aggregate_to:
        role_meta["labels"][f"rbac.authorization.k8s.io/aggregate-to-{role}"] = "true"
    return {"apiVersion": _RBAC, "kind": "ClusterRole", "metadata": role_meta, "rules": rules}


def binding(
    name: str, role: str, accounts: Sequence[str], namespace: str, meta: dict[str, Any]
) -> dict[str, Any]:
    """Return a ClusterRoleBinding of ClusterRole ``role`` to ServiceAccounts in ``namespace``."""
    return {
        "apiVersion": _RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": metadata(name, **meta),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [
            {"kind": "ServiceAccount", "name": account, "namespace": namespace}
            for account in accounts
        ],
    }

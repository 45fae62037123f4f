"""Keep a tenant's references inside its own namespace when the controller is locked down.

A namespace is the unit a platform team hands to a tenant: its RBAC, its Secrets, its sources.
A reference that names another namespace (``sourceRef.namespace``, ``dependsOn[].namespace``)
is read with the controller's own rights, not the tenant's, so without a rule here a tenant in
namespace B could build and apply the private repository of tenant A just by naming it.
Flux's ``--no-cross-namespace-refs`` closes that door; :class:`ReferencePolicy` is that flag,
shared by every kind's pipeline so each applies the same rule with the same words.

A refused reference stalls the object (:class:`AccessDenied`): the spec has to change before
another attempt could succeed, so it is not retried.

Example::

    policy = ReferencePolicy(no_cross_namespace_refs=True)
    namespace = policy.resolve("tenant-b", kind="GitRepository", name="fleet",
                               namespace=ref.namespace)  # raises AccessDenied for "tenant-a"
"""

from __future__ import annotations

from dataclasses import dataclass

from tide.api import reasons
from tide.runtime.steps import Stalled

__all__ = ["AccessDenied", "ReferencePolicy", "denied_message"]


def denied_message(kind: str, namespace: str, name: str) -> str:
    """The message a blocked reference reads with, in Flux's words."""
    return f"can't access '{kind}/{namespace}/{name}', cross-namespace references have been blocked"


class AccessDenied(Stalled):
    """A reference names another namespace and the controller blocks that; not retried.

    Attributes:
        kind: the kind the reference names.
        namespace: the namespace it names.
        name: the name it names.
    """

    def __init__(self, kind: str, namespace: str, name: str) -> None:
        super().__init__(denied_message(kind, namespace, name), reason=reasons.ACCESS_DENIED)
        self.kind = kind
        self.namespace = namespace
        self.name = name


@dataclass(frozen=True)
class ReferencePolicy:
    """Which namespaces an object's references may reach.

    Attributes:
        no_cross_namespace_refs: refuse every reference to another namespace than the
            referrer's own (Flux's ``--no-cross-namespace-refs``). Default: False, so
            cross-namespace references work as in Flux.
    """

    no_cross_namespace_refs: bool = False

    def allows(self, referrer_namespace: str, namespace: str | None) -> bool:
        """Tell whether an object in ``referrer_namespace`` may refer into ``namespace``.

        An empty ``namespace`` means the referrer's own, as in every Flux reference.
        """
        return not self.no_cross_namespace_refs or namespace in (None, "", referrer_namespace)

    def resolve(
        self,
        referrer_namespace: str,
        *,
        kind: str,
        name: str,
        namespace: str | None,
    ) -> str:
        """Return the namespace a reference points at (the referrer's when it names none).

        Args:
            referrer_namespace: namespace of the object holding the reference.
            kind: kind the reference names (for the message).
            name: name the reference names (for the message).
            namespace: namespace the reference names, if any.

        Raises:
            AccessDenied: the reference leaves ``referrer_namespace`` and the policy blocks it.
        """
        target = namespace or referrer_namespace
        if not self.allows(referrer_namespace, target):
            raise AccessDenied(kind, target, name)
        return target

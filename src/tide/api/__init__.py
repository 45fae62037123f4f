"""Typed models of Flux's APIs and the CRDs generated from them.

Tide speaks Flux's wire format: the same groups, versions, kinds, JSON field names, defaults
and validation. ``tide.api`` holds one pydantic model per kind (``source``, ``generator``,
``kustomize``, ``helm``, ``image``, ``notification``), the shared metav1/fluxcd-pkg types they
are built from (``meta``), the registry of kinds with their REST names and printer columns
(``kinds``), and ``crdgen``, which turns the models into the CustomResourceDefinitions installed
in the cluster.
The models refuse exactly what the API server refuses, so a manifest can be checked offline.
The package re-exports each of those modules' ``__all__``, so a name is listed once, where it
is defined.
"""

from tide.api import generator, helm, image, kinds, kustomize, meta, notification, source
from tide.api.generator import *  # noqa: F403
from tide.api.helm import *  # noqa: F403
from tide.api.image import *  # noqa: F403
from tide.api.kinds import *  # noqa: F403
from tide.api.kustomize import *  # noqa: F403
from tide.api.meta import *  # noqa: F403
from tide.api.notification import *  # noqa: F403
from tide.api.source import *  # noqa: F403

__all__ = [
    *generator.__all__,
    *helm.__all__,
    *image.__all__,
    *kinds.__all__,
    *kustomize.__all__,
    *meta.__all__,
    *notification.__all__,
    *source.__all__,
]

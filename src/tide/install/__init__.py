"""Put Tide into a cluster: render its manifests, apply them, wait until they serve.

``tide install``, ``tide bootstrap git`` and ``tide uninstall`` share this package, so the
manifests a bootstrap commits to Git are exactly the ones ``tide install --export`` prints.
"""

from tide.install.apply import apply_documents, install_crds
from tide.install.manifests import DEFAULT_COMPONENTS, EXTRA_COMPONENTS, InstallOptions, render

__all__ = [
    "DEFAULT_COMPONENTS",
    "EXTRA_COMPONENTS",
    "InstallOptions",
    "apply_documents",
    "install_crds",
    "render",
]

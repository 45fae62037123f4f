"""Put Tide into a cluster: render its manifests, apply them, wait until they serve; take out.

``tide install``, ``tide bootstrap git`` and ``tide uninstall`` share this package, so the
manifests a bootstrap commits to Git are exactly the ones ``tide install --export`` prints.
"""

from tide.install.apply import Applied, apply_documents, install_crds, wait_available
from tide.install.manifests import (
    DEFAULT_COMPONENTS,
    EXTRA_COMPONENTS,
    IMAGE_NAME,
    InstallError,
    InstallOptions,
    render,
)
from tide.install.uninstall import Removal, uninstall

__all__ = [
    "DEFAULT_COMPONENTS",
    "EXTRA_COMPONENTS",
    "IMAGE_NAME",
    "Applied",
    "InstallError",
    "InstallOptions",
    "Removal",
    "apply_documents",
    "install_crds",
    "render",
    "uninstall",
    "wait_available",
]

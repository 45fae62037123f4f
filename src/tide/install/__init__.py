"""Put Tide into a cluster: render its manifests, apply them, wait until they serve; take out.

``tide install``, ``tide bootstrap git`` and ``tide uninstall`` share this package, so the
manifests a bootstrap commits to Git are exactly the ones ``tide install --export`` prints;
``tide check`` and ``tide version`` read the cluster against the same rendering.
"""

from tide.install.apply import Applied, apply_documents, install_crds, wait_available
from tide.install.bootstrap import BootstrapError, BootstrapOptions, Report, bootstrap_git
from tide.install.check import (
    MINIMUM_KUBERNETES,
    REQUIRED_APIS,
    Finding,
    Verdict,
    check_installation,
    check_prerequisites,
    deployment_problem,
    deployment_version,
    kubernetes_version,
)
from tide.install.credentials import (
    CredentialsError,
    GitCredentials,
    public_key,
    scan_host_key,
    secret_manifest,
)
from tide.install.manifests import (
    DASHBOARD,
    DEFAULT_COMPONENTS,
    EXTRA_COMPONENTS,
    IMAGE_NAME,
    InstallError,
    InstallOptions,
    render,
)
from tide.install.sync import (
    COMPONENTS_FILE,
    KUSTOMIZATION_FILE,
    SYNC_FILE,
    SYNC_FOLDER,
    SyncOptions,
    normalise_path,
    render_files,
    render_sync,
    to_yaml_stream,
)
from tide.install.uninstall import Removal, uninstall
from tide.install.versions import controller_versions

__all__ = [
    "COMPONENTS_FILE",
    "DASHBOARD",
    "DEFAULT_COMPONENTS",
    "EXTRA_COMPONENTS",
    "IMAGE_NAME",
    "KUSTOMIZATION_FILE",
    "MINIMUM_KUBERNETES",
    "REQUIRED_APIS",
    "SYNC_FILE",
    "SYNC_FOLDER",
    "Applied",
    "BootstrapError",
    "BootstrapOptions",
    "CredentialsError",
    "Finding",
    "GitCredentials",
    "InstallError",
    "InstallOptions",
    "Removal",
    "Report",
    "SyncOptions",
    "Verdict",
    "apply_documents",
    "bootstrap_git",
    "check_installation",
    "check_prerequisites",
    "controller_versions",
    "deployment_problem",
    "deployment_version",
    "install_crds",
    "kubernetes_version",
    "normalise_path",
    "public_key",
    "render",
    "render_files",
    "render_sync",
    "scan_host_key",
    "secret_manifest",
    "to_yaml_stream",
    "uninstall",
    "wait_available",
]

"""Real servers on loopback for tests: a Kubernetes control plane now, Git/Helm/OCI servers next.

Everything here starts real programs (etcd, kube-apiserver, …) built by :mod:`tide.testing.binaries`
and stops them again; nothing is mocked. Users may use these in their own tests.
"""

from tide.testing._charts import package_chart
from tide.testing.binaries import Binaries, BuildError, GoMissingError, ensure_binaries
from tide.testing.chartrepo import ChartRepository, ChartRepositoryError
from tide.testing.controlplane import ControlPlane, ControlPlaneError
from tide.testing.gitserver import GitServer, GitServerError
from tide.testing.kstatus import violations
from tide.testing.registry import Registry, RegistryError

__all__ = [
    "Binaries",
    "BuildError",
    "ChartRepository",
    "ChartRepositoryError",
    "ControlPlane",
    "ControlPlaneError",
    "GitServer",
    "GitServerError",
    "GoMissingError",
    "Registry",
    "RegistryError",
    "ensure_binaries",
    "package_chart",
    "violations",
]

"""Real servers on loopback for tests: a Kubernetes control plane now, Git/Helm/OCI servers next.

Everything here starts real programs (etcd, kube-apiserver, …) built by :mod:`tide.testing.binaries`
and stops them again; nothing is mocked. Users may use these in their own tests.
"""

from tide.testing.binaries import Binaries, BuildError, GoMissingError, ensure_binaries
from tide.testing.controlplane import ControlPlane, ControlPlaneError
from tide.testing.kstatus import violations

__all__ = [
    "Binaries",
    "BuildError",
    "ControlPlane",
    "ControlPlaneError",
    "GoMissingError",
    "ensure_binaries",
    "violations",
]

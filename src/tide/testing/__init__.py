"""Real servers on loopback for tests: a Kubernetes control plane, Git, Helm and OCI servers.

:class:`ControlPlane` runs etcd and kube-apiserver (with ``workloads=True`` also the
controller-manager, the scheduler and kwok), :class:`GitServer` smart HTTP(S) and SSH Git,
:class:`ChartRepository` a Helm chart repository, :class:`Registry` an OCI registry (Debian's
docker-registry) and :class:`RegistryProxy` paging and counting in front of it;
:func:`violations` is the kstatus checker tests run on the objects they touch.

Those start real programs (etcd, kube-apiserver, …) built by :mod:`tide.testing.binaries` and stop
them again; nothing is mocked. One exception, for fast unit tests of reconcilers:
:class:`FakeKubeClient` keeps objects in memory and says in its docstring what it does not
emulate. Users may use these in their own tests, most simply
through the fixtures ``tide_control_plane`` and ``tide_namespace`` of
:mod:`tide.testing.pytest_plugin`, which pytest loads by itself wherever Tide is installed. That
module is not re-exported here, so importing :mod:`tide.testing` never needs pytest.
"""

from tide.testing._audit import namespace_violations
from tide.testing._charts import package_chart
from tide.testing.binaries import Binaries, BuildError, GoMissingError, ensure_binaries
from tide.testing.chartrepo import ChartRepository, ChartRepositoryError
from tide.testing.controlplane import ControlPlane, ControlPlaneError
from tide.testing.fake import FakeKubeClient
from tide.testing.gitserver import GitServer, GitServerError
from tide.testing.kstatus import violations
from tide.testing.registry import Registry, RegistryError
from tide.testing.registry_proxy import RegistryProxy

__all__ = [
    "Binaries",
    "BuildError",
    "ChartRepository",
    "ChartRepositoryError",
    "ControlPlane",
    "ControlPlaneError",
    "FakeKubeClient",
    "GitServer",
    "GitServerError",
    "GoMissingError",
    "Registry",
    "RegistryError",
    "RegistryProxy",
    "ensure_binaries",
    "namespace_violations",
    "package_chart",
    "violations",
]

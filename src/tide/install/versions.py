"""Read which version of each Tide controller a cluster runs, for ``tide version``."""

from __future__ import annotations

from tide.api.kinds import COMPONENTS
from tide.install.check import deployment_version
from tide.kube.client import KubeClient
from tide.kube.resources import DEPLOYMENT

__all__ = ["controller_versions"]


async def controller_versions(client: KubeClient, *, namespace: str) -> dict[str, str]:
    """Return ``{controller: version}`` for each controller Deployment in ``namespace``.

    Deployments are matched by name (Flux's component names), in Flux's order; an empty result
    means Tide is not installed in that namespace.
    """
    deployments, _ = await client.list(DEPLOYMENT, namespace=namespace)
    by_name = {d["metadata"]["name"]: d for d in deployments}
    return {name: deployment_version(by_name[name]) for name in COMPONENTS if name in by_name}

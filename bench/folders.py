"""N Kustomizations on one GitRepository, each building a folder of its own.

Run: ``.venv/bin/python bench/folders.py [--objects 100] [--runs 3] [--concurrent 4]``.

``kustomizations.py`` points N Kustomizations at one folder, so one kustomize build serves all
of them. A monorepo usually has a folder per app instead: here ``apps/app-NNNN/`` holds that
app's Deployment (0 replicas), ServiceAccount, Service and Ingress, names already filled in,
and Kustomization ``app-NNNN`` (``wait: true``, ``prune: true``, ``targetNamespace`` the run's
namespace) builds it: N builds of N folders from one artifact.

Figures per run as in ``bench/_common.py``: ``ready_seconds``, ``cpu_seconds`` and
``tree_peak_pss_mib`` / ``tree_peak_rss_mib`` of the ``tide controller`` process with its
kustomize and git children, ``peak_rss_mib`` of the process alone, ``api_requests``,
``api_writes``, the API server's and etcd's CPU seconds, then the restarted controller's.
"""

from __future__ import annotations

import argparse
import asyncio

from _common import Fleet, run_and_print  # bench/ is on sys.path when a script runs
from _tree import servers_cpu
from kustomizations import app_files

from tide.install import install_crds
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer


def fleet(git: GitServer) -> Fleet:
    """N Kustomizations of one GitRepository, Kustomization ``app-NNNN`` on ``apps/app-NNNN``."""
    repository = {
        "metadata": {"name": "monorepo"},
        "spec": {"interval": "1h", "url": git.http_url("monorepo"), "ref": {"branch": "main"}},
    }

    def spec(index: int, namespace: str) -> dict:
        return {
            "interval": "1h", "timeout": "5m", "path": f"./apps/app-{index:04d}",
            "prune": True, "wait": True, "targetNamespace": namespace,
            "sourceRef": {"kind": "GitRepository", "name": "monorepo"},
        }  # fmt: skip

    return Fleet(
        rt=KUSTOMIZATION,
        controllers=("source", "kustomize"),
        counted="kustomization",
        source=(GIT_REPOSITORY, repository),
        spec=spec,
        extra=servers_cpu(),
    )


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--concurrent", type=int, default=4, help="reconciles in flight (default: tide's, 4)"
    )
    args = parser.parse_args()
    with ControlPlane(workloads=True) as plane, GitServer() as git:
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        await admin.close()
        files: dict[str, str] = {}
        for index in range(args.objects):
            name = f"app-{index:04d}"
            files.update(app_files(name, folder=f"apps/{name}/"))
        git.create_repo("monorepo", files)
        print(f"{args.objects} Kustomizations, a folder each (4 objects, wait: true):")
        await run_and_print(
            plane,
            fleet(git),
            prefix="bench-folders",
            count=args.objects,
            runs=args.runs,
            concurrent=args.concurrent,
        )


if __name__ == "__main__":
    asyncio.run(main())

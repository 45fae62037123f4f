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

import asyncio

from _common import (  # bench/ is on sys.path when a script runs
    Fleet,
    fleet_parser,
    install,
    kustomization_fleet,
    run_and_print,
)
from kustomizations import app_files

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

    return kustomization_fleet(spec, source=(GIT_REPOSITORY, repository))


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    args = fleet_parser(__doc__).parse_args()
    with ControlPlane(workloads=True) as plane, GitServer() as git:
        await install(plane)
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

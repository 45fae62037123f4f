"""Flux's sharding: N Kustomizations split over K ``tide controller`` processes by label.

Run: ``.venv/bin/python bench/sharding.py [--objects 1000] [--shards 2] [--runs 3]``.

Flux scales a fleet out by running several controllers, each with
``--watch-label-selector 'sharding.fluxcd.io/key in (shardX)'``, and labelling every object
with the shard that owns it. Here Kustomization ``app-NNNN`` of ``kustomizations.py``'s shape
(one folder templated by ``postBuild``, four objects, ``wait: true``) carries
``sharding.fluxcd.io/key: shard<NNNN mod K>`` and reads GitRepository ``fleet-shard<i>``,
labelled the same, so each shard also fetches its own source. ``--shards 1`` runs the same
objects through one process, the figure to compare with.

Figures per run: ``ready_seconds`` from the first create to all N Ready; per shard ``i``
(figures ``shard<i>_…``): ``reconciles`` of Kustomizations, ``requests`` and ``writes`` (dry
runs excluded), ``cpu_seconds`` and ``tree_peak_pss_mib`` of the process with its children;
``foreign_events``: events any process recorded about an object outside its shard, told by
the event's ``reportingInstance`` (target 0), and ``owned_shards``, how many shards a process
of its own recorded events about (target K).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import (  # bench/ is on sys.path when a script runs
    Controller,
    all_ready,
    bounded,
    fleet_parser,
    gather_limited,
    install,
)
from _figures import print_medians, print_run
from _tree import servers_cpu
from kustomizations import APP

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer
from tide.testing._process import free_port

SHARD_KEY = "sharding.fluxcd.io/key"


def shard_of(index: int, shards: int) -> str:
    return f"shard{index % shards}"


def kustomization(name: str, namespace: str, shard: str) -> dict[str, Any]:
    """App ``name`` of ``shard``, on that shard's GitRepository."""
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": {SHARD_KEY: shard}},
        "spec": {
            "interval": "1h", "timeout": "5m", "path": "./app", "prune": True, "wait": True,
            "targetNamespace": namespace, "postBuild": {"substitute": {"app": name}},
            "sourceRef": {"kind": "GitRepository", "name": f"fleet-{shard}"},
        },
    }  # fmt: skip


async def _foreign_events(
    admin: KubeClient, namespace: str, shard_by_name: dict[str, str]
) -> tuple[int, int]:
    """Return (events about another shard's objects, shards that recorded events).

    A process owns the shard it recorded most events about; every event it recorded about
    another shard's object is foreign. Two processes owning the same shard count once.
    """
    events, _ = await admin.list(resources.EVENT, namespace=namespace)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        shard = shard_by_name.get(event["involvedObject"].get("name", ""))
        if shard is not None:
            counts[event.get("reportingInstance", "")][shard] += 1
    owned = {seen.most_common(1)[0][0] for seen in counts.values()}
    foreign = sum(seen.total() - seen.most_common(1)[0][1] for seen in counts.values())
    return foreign, len(owned)


async def one_run(
    plane: ControlPlane, git: GitServer, *, namespace: str, count: int, shards: int, concurrent: int
) -> dict[str, float]:
    """Measure one run in a fresh namespace with K fresh controller processes."""
    admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
    await admin.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    names = [f"app-{index:04d}" for index in range(count)]
    shard_names = [shard_of(i, shards) for i in range(shards)]
    shard_by_name = {name: shard_of(i, shards) for i, name in enumerate(names)}
    shard_by_name.update({f"fleet-{shard}": shard for shard in shard_names})
    extra = servers_cpu()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        controllers = [
            Controller(
                plane, Path(scratch) / shard, concurrent, free_port(),
                controllers=("source", "kustomize"), counted="kustomization",
                flags=("--watch-label-selector", f"{SHARD_KEY} in ({shard})"),
            )
            for shard in shard_names
        ]  # fmt: skip
        try:
            for controller in controllers:
                await controller.wait_for_metrics()
            for shard in shard_names:
                await admin.create(GIT_REPOSITORY, {
                    "metadata": {"name": f"fleet-{shard}", "namespace": namespace,
                                 "labels": {SHARD_KEY: shard}},
                    "spec": {"interval": "1h", "url": git.http_url("fleet"),
                             "ref": {"branch": "main"}},
                })  # fmt: skip
            before = {name: read() for name, read in extra.items()}
            cpu_before = [controller.tree.cpu_seconds() for controller in controllers]
            started = time.monotonic()
            await gather_limited(
                admin.create(KUSTOMIZATION, kustomization(name, namespace, shard_by_name[name]))
                for name in names
            )
            await bounded(all_ready(admin, KUSTOMIZATION, namespace, count), controllers, "Ready")
            figures["ready_seconds"] = time.monotonic() - started
            await asyncio.sleep(2)  # let the last events land before reading the counters
            figures.update({name: read() - before[name] for name, read in extra.items()})
            for i, controller in enumerate(controllers):
                samples = await controller.samples()
                figures[f"shard{i}_reconciles"] = samples["reconciles"]
                figures[f"shard{i}_requests"] = samples["requests"]
                figures[f"shard{i}_writes"] = samples["writes"]
                figures[f"shard{i}_cpu_seconds"] = controller.tree.cpu_seconds() - cpu_before[i]
                figures[f"shard{i}_tree_peak_pss_mib"] = controller.tree.peak_pss_mib()
            foreign, owned = await _foreign_events(admin, namespace, shard_by_name)
            figures["foreign_events"] = foreign
            figures["owned_shards"] = owned
            # Deleted while the controllers run, so each releases its own finalizers.
            await gather_limited(
                admin.delete(KUSTOMIZATION, name, namespace=namespace) for name in names
            )
            for shard in shard_names:
                await admin.delete(GIT_REPOSITORY, f"fleet-{shard}", namespace=namespace)

            async def deleted() -> None:
                while any([(await admin.list(rt, namespace=namespace))[0]
                           for rt in (KUSTOMIZATION, GIT_REPOSITORY)]):  # fmt: skip
                    await asyncio.sleep(1)

            await bounded(deleted(), controllers, "every object deleted")
        finally:
            for controller in controllers:
                controller.stop()
    await admin.delete(resources.NAMESPACE, namespace)
    await admin.close()
    return figures


async def main() -> None:
    """Run the benchmark and print one line per run and the medians."""
    parser = fleet_parser(__doc__, objects=1000)
    parser.add_argument("--shards", type=int, default=2)
    args = parser.parse_args()
    with ControlPlane(workloads=True) as plane, GitServer() as git:
        await install(plane)
        git.create_repo("fleet", APP)
        print(f"{args.objects} Kustomizations over {args.shards} shard(s):")
        results = []
        for run in range(args.runs):
            figures = await one_run(
                plane, git, namespace=f"bench-shard-{run}", count=args.objects,
                shards=args.shards, concurrent=args.concurrent,
            )  # fmt: skip
            results.append(figures)
            print_run(run, figures)
        print_medians(f"--concurrent={args.concurrent} each, median of {args.runs}:", results)


if __name__ == "__main__":
    asyncio.run(main())

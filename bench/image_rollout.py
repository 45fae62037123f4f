"""Tag push to cluster: a new image tag until the Deployment in the cluster runs it.

Run: ``.venv/bin/python bench/image_rollout.py [--runs 10]``.

A separate script rather than a phase of ``bench/images.py`` (its ``EXTRA_PHASES`` seam): that
benchmark runs the image reflector alone on a control plane without workloads, and this one
needs Git, the source and kustomize controllers and a Deployment.

One local control plane with workloads, one Git server, one Debian ``docker-registry`` holding
``bench/my-app:1.0.0``. A ``tide controller --controllers
source,kustomize,image-reflector,image-automation`` process runs a GitRepository, a
Kustomization, an ImageRepository (``insecure``), an ImagePolicy (semver ``1.x``) and an
ImageUpdateAutomation (push to ``main``), all at ``interval: 1h``, so only the request can
explain a prompt rollout. The Git repository holds a Deployment whose image line carries the
``{"$imagepolicy": "<namespace>:my-app"}`` marker.

Each run tags the manifest ``1.0.<run>`` in the registry, then asks the ImageRepository to scan
(``reconcile.fluxcd.io/requestedAt``, as a registry webhook's Receiver would), and times from
the tag, polling the API server every 50 ms:

- ``scanned``: the ImageRepository has handled the request and lists the new tag;
- ``policy``: the ImagePolicy's ``status.latestRef`` is the new tag;
- ``pushed``: the ImageUpdateAutomation's ``status.lastPushCommit`` is a new commit;
- ``deployed``: the Deployment in the cluster has image ``…/bench/my-app:1.0.<run>``;

and the steps between: ``scan_to_policy``, ``policy_to_push`` and ``push_to_deploy``.
Prints each run, then the median and p90 of each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import Controller, is_ready  # bench/ is on sys.path when run
from _figures import p90

from tide.image.automation.setup import IMAGE_UPDATE_AUTOMATION
from tide.image.setup import IMAGE_POLICY, IMAGE_REPOSITORY
from tide.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer, Registry
from tide.testing._process import free_port

NAMESPACE = "bench-rollout"
REPOSITORY = "bench/my-app"
DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")
CONTROLLERS = ("source", "kustomize", "image-reflector", "image-automation")
POLL = 0.05
TIMEOUT = 120.0
STEPS = ("scanned", "policy", "pushed", "deployed")
FIGURES = (*STEPS, "scan_to_policy", "policy_to_push", "push_to_deploy")


def _deployment(image: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: my-app\nspec:\n"
        "  replicas: 0\n  selector: {matchLabels: {app: my-app}}\n"
        "  template:\n    metadata: {labels: {app: my-app}}\n    spec:\n      containers:\n"
        f"        - name: my-app\n"
        f'          image: {image} # {{"$imagepolicy": "{NAMESPACE}:my-app"}}\n'
    )


async def _until(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {TIMEOUT:g}s")
        await asyncio.sleep(POLL)


async def _objects(admin: KubeClient, git_url: str, image: str) -> None:
    """Create the five objects the rollout goes through."""
    await admin.create(resources.NAMESPACE, {"metadata": {"name": NAMESPACE}})
    meta = {"name": "my-app", "namespace": NAMESPACE}
    await admin.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": NAMESPACE},
        "spec": {"interval": "1h", "url": git_url, "ref": {"branch": "main"}},
    })  # fmt: skip
    await admin.create(KUSTOMIZATION, {
        "metadata": meta,
        "spec": {"interval": "1h", "path": "./deploy", "prune": True, "targetNamespace": NAMESPACE,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip
    await admin.create(IMAGE_REPOSITORY, {
        "metadata": meta, "spec": {"image": image, "interval": "1h", "insecure": True},
    })  # fmt: skip
    await admin.create(IMAGE_POLICY, {
        "metadata": meta,
        "spec": {"imageRepositoryRef": {"name": "my-app"}, "policy": {"semver": {"range": "1.x"}}},
    })  # fmt: skip
    await admin.create(IMAGE_UPDATE_AUTOMATION, {
        "metadata": meta,
        "spec": {
            "interval": "1h",
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "git": {
                "commit": {"author": {"name": "tidebot", "email": "tidebot@example.com"},
                           "messageTemplate": "chore: update my-app"},
                "push": {"branch": "main"},
            },
            "update": {"path": "./deploy", "strategy": "Setters"},
        },
    })  # fmt: skip


class Probes:
    """What each step looks like in the API server, for one run's tag."""

    def __init__(self, admin: KubeClient, image: str, tag: str, token: str, pushed: str) -> None:
        self.admin = admin
        self.image = f"{image}:{tag}"
        self.tag = tag
        self.token = token
        self.previous_push = pushed

    async def _get(self, rt: ResourceType, name: str = "my-app") -> dict[str, Any]:
        return await self.admin.get_or_none(rt, name, namespace=NAMESPACE) or {}

    async def scanned(self) -> bool:
        status = (await self._get(IMAGE_REPOSITORY)).get("status") or {}
        return status.get("lastHandledReconcileAt") == self.token and self.tag in (
            (status.get("lastScanResult") or {}).get("latestTags") or ()
        )

    async def policy(self) -> bool:
        obj = await self._get(IMAGE_POLICY)
        return ((obj.get("status") or {}).get("latestRef") or {}).get("tag") == self.tag

    async def pushed(self) -> bool:
        status = (await self._get(IMAGE_UPDATE_AUTOMATION)).get("status") or {}
        return status.get("lastPushCommit", self.previous_push) != self.previous_push

    async def deployed(self) -> bool:
        obj = await self._get(DEPLOYMENT)
        containers = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or [{}]
        return containers[0].get("image") == self.image


async def _one_run(
    admin: KubeClient, registry: Registry, image: str, digest: str, run: int
) -> dict[str, float]:
    """Tag ``1.0.<run>``, request a scan, and time every step from the tag."""
    automation = await admin.get(IMAGE_UPDATE_AUTOMATION, "my-app", namespace=NAMESPACE)
    probes = Probes(
        admin,
        image,
        f"1.0.{run}",
        f"run-{run}",
        (automation.get("status") or {}).get("lastPushCommit", ""),
    )
    seen: dict[str, float] = {}
    started = time.monotonic()
    registry.tag_many(REPOSITORY, digest, [probes.tag])
    patch = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": probes.token}}}
    await admin.patch_merge(IMAGE_REPOSITORY, "my-app", patch, namespace=NAMESPACE)

    async def all_seen() -> bool:
        # One poll asks every step not seen yet, so each is timed to within one poll.
        pending = [step for step in STEPS if step not in seen]
        answers = await asyncio.gather(*(getattr(probes, step)() for step in pending))
        now = time.monotonic()
        for step, yes in zip(pending, answers, strict=True):
            if yes:
                seen[step] = now - started
        return len(seen) == len(STEPS)

    await _until(all_seen, f"run {run}: the rollout of {probes.image}")
    seen["scan_to_policy"] = seen["policy"] - seen["scanned"]
    seen["policy_to_push"] = seen["pushed"] - seen["policy"]
    seen["push_to_deploy"] = seen["deployed"] - seen["pushed"]
    return seen


async def main() -> None:
    """Run the benchmark; print one line per run, then medians and p90s."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with (
        ControlPlane(workloads=True) as plane,
        GitServer() as git,
        Registry() as registry,
        tempfile.TemporaryDirectory() as scratch,
    ):
        admin = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="bench")
        await install_crds(admin)
        image = f"{registry.host}/{REPOSITORY}"
        digest = registry.push_artifact(REPOSITORY, "1.0.0", {"app.txt": "1.0.0"})
        git.create_repo(
            "fleet",
            {
                "deploy/app.yaml": _deployment(f"{image}:1.0.0"),
                "deploy/kustomization.yaml": "resources:\n  - app.yaml\n",
            },
        )
        controller = Controller(
            plane, Path(scratch), 4, free_port(), controllers=CONTROLLERS, counted="kustomization"
        )
        try:
            await controller.wait_for_metrics()
            await _objects(admin, git.http_url("fleet"), image)

            async def settled() -> bool:
                objs = [
                    await admin.get(rt, "my-app", namespace=NAMESPACE)
                    for rt in (KUSTOMIZATION, IMAGE_POLICY, IMAGE_UPDATE_AUTOMATION)
                ]
                return all(is_ready(obj) for obj in objs)

            await _until(settled, "the Kustomization, ImagePolicy and automation Ready")
            results = []
            for run in range(1, args.runs + 1):
                figures = await _one_run(admin, registry, image, digest, run)
                results.append(figures)
                print(
                    f"run {run:>2}: " + "  ".join(f"{key} {figures[key]:.2f} s" for key in FIGURES),
                    flush=True,
                )
            for key in FIGURES:
                values = [r[key] for r in results]
                print(
                    f"{key:>14}: median {statistics.median(values):.2f} s  "
                    f"p90 {p90(values):.2f} s  (n={len(values)})"
                )
        finally:
            controller.stop()
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

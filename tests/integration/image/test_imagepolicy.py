"""ImagePolicy against a real registry: every policy kind, digests, repository-driven updates,
never-downgrade, and the ways a policy can be wrong or refused."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import condition, drain
from tests.integration.image.conftest import (
    Running,
    create_policy,
    create_repository,
    repo_path,
    request_reconcile,
    running_reflector,
    wait_event,
    wait_ready,
)
from tide.image.setup import IMAGE_POLICY, IMAGE_REPOSITORY
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.testing import ControlPlane, Registry

pytestmark = pytest.mark.integration


async def scanned_repository(
    kube: KubeClient, namespace: str, registry: Registry, tags: list[str], name: str = "app"
) -> tuple[str, str]:
    """Push ``tags`` (one manifest), create an ImageRepository for them; return image, digest."""
    path = repo_path(namespace, base=name)
    digest = registry.push_artifact(path, tags[0], {"a": "1"})
    registry.tag_many(path, digest, tags[1:])
    image = f"{registry.host}/{path}"
    await create_repository(kube, namespace, name, image)
    await wait_ready(kube, IMAGE_REPOSITORY, namespace, name)
    return image, digest


def latest(obj: dict[str, Any]) -> dict[str, Any]:
    return (obj.get("status") or {}).get("latestRef") or {}


TAGS = ["1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "main-aaa-1700000100", "main-bbb-1700000300"]


@pytest.mark.parametrize(
    ("policy", "filter_tags", "expected"),
    [
        ({"semver": {"range": "1.x"}}, None, "1.10.0"),
        ({"semver": {"range": ">=1.0.0 <2.0.0"}}, None, "1.10.0"),
        ({"semver": {"range": "~1.2"}}, None, "1.2.0"),
        ({"semver": {"range": ">=2.0.0-0"}}, None, "2.0.0-rc.1"),
        ({"alphabetical": {"order": "asc"}}, {"pattern": "^1\\."}, "1.2.0"),
        ({"alphabetical": {"order": "desc"}}, None, "1.0.0"),
        (
            {"numerical": {"order": "asc"}},
            {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "extract": "$ts"},
            "main-bbb-1700000300",
        ),
    ],
)
async def test_each_policy_kind_picks_its_latest_tag(
    kube: KubeClient,
    namespace: str,
    reflector: Running,
    registry: Registry,
    policy: dict[str, Any],
    filter_tags: dict[str, str] | None,
    expected: str,
) -> None:
    image, _ = await scanned_repository(kube, namespace, registry, TAGS)
    extra = {"filterTags": filter_tags} if filter_tags else {}
    await create_policy(kube, namespace, "pick", "app", policy, **extra)

    obj = await wait_ready(kube, IMAGE_POLICY, namespace, "pick")

    assert latest(obj) == {"name": image, "tag": expected}
    assert obj["status"]["latestImage"] == f"{image}:{expected}"
    message = f"Latest image tag for '{image}' resolved to {expected}"
    assert condition(obj, "Ready")["message"] == message


async def test_digest_reflection_resolves_the_manifest_digest(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    _, digest = await scanned_repository(kube, namespace, registry, ["1.0.0", "1.1.0"])
    await create_policy(
        kube, namespace, "pick", "app", {"semver": {"range": "1.x"}},
        digestReflectionPolicy="IfNotPresent",
    )  # fmt: skip

    obj = await wait_ready(kube, IMAGE_POLICY, namespace, "pick")

    assert latest(obj)["tag"] == "1.1.0"
    assert latest(obj)["digest"] == digest


async def test_a_new_tag_moves_the_policy_when_its_repository_rescans(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    image, digest = await scanned_repository(kube, namespace, registry, ["1.0.0"])
    await create_policy(kube, namespace, "pick", "app", {"semver": {"range": "1.x"}})
    await wait_ready(kube, IMAGE_POLICY, namespace, "pick", check=lambda o: latest(o))

    registry.tag_many(repo_path(namespace, base="app"), digest, ["1.1.0"])
    await request_reconcile(kube, IMAGE_REPOSITORY, namespace, "app", "rescan")  # not the policy

    obj = await wait_ready(
        kube, IMAGE_POLICY, namespace, "pick", check=lambda o: latest(o).get("tag") == "1.1.0"
    )
    assert obj["status"]["observedPreviousRef"] == {"name": image, "tag": "1.0.0"}
    assert obj["status"]["observedPreviousImage"] == f"{image}:1.0.0"
    await wait_event(
        kube, namespace, "pick", type="Normal", reason="Succeeded",
        message=f"Latest image tag for '{image}' updated from 1.0.0 to 1.1.0",
    )  # fmt: skip


async def test_deleted_tags_never_move_a_policy_back(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    await scanned_repository(kube, namespace, registry, ["1.0.0", "1.1.0", "1.2.0"])
    await create_policy(kube, namespace, "pick", "app", {"semver": {"range": "1.x"}})
    await wait_ready(kube, IMAGE_POLICY, namespace, "pick", check=lambda o: latest(o))

    registry.untag(repo_path(namespace, base="app"), "1.2.0", "1.1.0")
    await request_reconcile(kube, IMAGE_REPOSITORY, namespace, "app", "fewer")
    await wait_ready(
        kube, IMAGE_REPOSITORY, namespace, "app",
        check=lambda o: o["status"]["lastScanResult"]["tagCount"] == 1,
    )  # fmt: skip

    obj = await wait_ready(
        kube, IMAGE_POLICY, namespace, "pick",
        check=lambda o: "older 1.0.0" in condition(o, "Ready")["message"],
    )  # fmt: skip
    assert latest(obj)["tag"] == "1.2.0"

    # A new spec may go back: the rule guards the spec the tag was chosen under.
    await kube.patch_merge(
        IMAGE_POLICY, "pick", {"spec": {"policy": {"semver": {"range": "~1.0"}}}},
        namespace=namespace,
    )  # fmt: skip
    obj = await wait_ready(
        kube, IMAGE_POLICY, namespace, "pick", check=lambda o: latest(o).get("tag") == "1.0.0"
    )


async def test_a_range_no_tag_satisfies_fails_and_is_retried(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    await scanned_repository(kube, namespace, registry, ["1.0.0", "1.1.0"])
    await create_policy(kube, namespace, "pick", "app", {"semver": {"range": ">=5.0.0"}})

    obj = await wait_ready(kube, IMAGE_POLICY, namespace, "pick", status="False", reason="Failure")

    assert condition(obj, "Ready")["message"] == (
        "cannot determine latest tag for policy: no tag of the 2 listed satisfies semver range "
        "'>=5.0.0'"
    )
    assert condition(obj, "Stalled") is None
    await wait_event(kube, namespace, "pick", type="Warning", reason="Failure")


@pytest.mark.parametrize(
    ("policy", "filter_tags", "message"),
    [
        (
            {"numerical": {}},
            {"pattern": "^(?P<ts>[0-9]+)$", "extract": "$build"},
            "invalid policy: spec.filterTags.extract '$build' refers to group 'build', which "
            "spec.filterTags.pattern '^(?P<ts>[0-9]+)$' does not define (named groups: ts)",
        ),
        (
            {"alphabetical": {}},
            {"pattern": "[unclosed"},
            "invalid policy: spec.filterTags.pattern '[unclosed' is not a valid regular expression",
        ),
    ],
)
async def test_an_unusable_filter_stalls_with_invalid_policy(
    kube: KubeClient,
    namespace: str,
    reflector: Running,
    registry: Registry,
    policy: dict[str, Any],
    filter_tags: dict[str, str],
    message: str,
) -> None:
    await scanned_repository(kube, namespace, registry, ["1.0.0"])
    await create_policy(kube, namespace, "pick", "app", policy, filterTags=filter_tags)

    obj = await wait_ready(
        kube, IMAGE_POLICY, namespace, "pick", status="False", reason="InvalidPolicy"
    )

    assert condition(obj, "Stalled")["reason"] == "InvalidPolicy"
    assert condition(obj, "Ready")["message"].startswith(message)


async def test_a_missing_repository_is_a_dependency_not_ready(
    kube: KubeClient, namespace: str, reflector: Running
) -> None:
    await create_policy(kube, namespace, "pick", "nowhere", {"semver": {"range": "1.x"}})

    obj = await wait_ready(
        kube, IMAGE_POLICY, namespace, "pick", status="False", reason="DependencyNotReady"
    )

    assert condition(obj, "Ready")["message"] == (
        "failed to get the referred ImageRepository: referenced ImageRepository "
        f"'{namespace}/nowhere' does not exist"
    )
    await wait_event(kube, namespace, "pick", type="Warning", reason="DependencyNotReady")


# -- cross-namespace -------------------------------------------------------------------------------
@pytest_asyncio.fixture(loop_scope="session")
async def other_namespace(kube: KubeClient, namespace: str) -> AsyncIterator[str]:
    """A second namespace, labelled ``team: apps``, deleted after the test.

    Ask for it after the reflector, so its policies are drained while the reflector still runs.
    """
    name = f"{namespace[:40]}-apps"
    await kube.create(resources.NAMESPACE, {"metadata": {"name": name, "labels": {"team": "apps"}}})
    yield name
    await drain(kube, IMAGE_POLICY, name)
    await kube.delete(resources.NAMESPACE, name)


@pytest_asyncio.fixture(loop_scope="session")
async def locked_reflector(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    other_namespace: str,
    tmp_path: Path,
) -> AsyncIterator[Running]:
    """The image reflector with ``--no-cross-namespace-refs``."""
    async with running_reflector(
        control_plane, kube, [other_namespace, namespace], tmp_path / "data",
        no_cross_namespace_refs=True,
    ) as running:  # fmt: skip
        yield running


async def cross_policy(kube: KubeClient, other: str, namespace: str) -> None:
    await kube.create(IMAGE_POLICY, {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": "pick", "namespace": other},
        "spec": {
            "imageRepositoryRef": {"name": "app", "namespace": namespace},
            "policy": {"semver": {"range": "1.x"}},
        },
    })  # fmt: skip


async def test_a_repository_without_access_from_refuses_other_namespaces(
    kube: KubeClient, namespace: str, reflector: Running, other_namespace: str, registry: Registry
) -> None:
    await scanned_repository(kube, namespace, registry, ["1.0.0"])
    await cross_policy(kube, other_namespace, namespace)

    obj = await wait_ready(
        kube, IMAGE_POLICY, other_namespace, "pick", status="False", reason="AccessDenied"
    )

    assert condition(obj, "Ready")["message"] == (
        "failed to get the referred ImageRepository: access denied: ImageRepository "
        f"'{namespace}/app' does not allow ImagePolicies from namespace '{other_namespace}': "
        "it has no spec.accessFrom"
    )
    assert condition(obj, "Stalled") is None  # labelling the namespace may lift it

    selector = {"accessFrom": {"namespaceSelectors": [{"matchLabels": {"team": "apps"}}]}}
    await kube.patch_merge(IMAGE_REPOSITORY, "app", {"spec": selector}, namespace=namespace)
    obj = await wait_ready(kube, IMAGE_POLICY, other_namespace, "pick", timeout=60)
    assert latest(obj)["tag"] == "1.0.0"


async def test_no_cross_namespace_refs_stalls_a_policy_naming_another_namespace(
    kube: KubeClient,
    namespace: str,
    other_namespace: str,
    locked_reflector: Running,
    registry: Registry,
) -> None:
    selector = {"namespaceSelectors": [{"matchLabels": {}}]}
    path = repo_path(namespace)
    registry.push_artifact(path, "1.0.0", {"a": "1"})
    await create_repository(kube, namespace, "app", f"{registry.host}/{path}", accessFrom=selector)
    await cross_policy(kube, other_namespace, namespace)

    obj = await wait_ready(
        kube, IMAGE_POLICY, other_namespace, "pick", status="False", reason="AccessDenied"
    )

    assert condition(obj, "Stalled")["reason"] == "AccessDenied"
    assert condition(obj, "Ready")["message"] == (
        f"can't access 'ImageRepository/{namespace}/app', cross-namespace references have been "
        "blocked"
    )


async def test_v1beta2_readers_see_latest_image(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    image, _ = await scanned_repository(kube, namespace, registry, ["1.0.0"])
    await create_policy(kube, namespace, "pick", "app", {"semver": {"range": "1.x"}})
    await wait_ready(kube, IMAGE_POLICY, namespace, "pick", check=lambda o: latest(o))

    v1beta2 = dataclasses.replace(IMAGE_POLICY, version="v1beta2")
    obj = await kube.get(v1beta2, "pick", namespace=namespace)

    assert obj["apiVersion"] == "image.toolkit.fluxcd.io/v1beta2"
    assert obj["status"]["latestImage"] == f"{image}:1.0.0"

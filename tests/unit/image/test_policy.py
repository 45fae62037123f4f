"""ImagePolicy pipeline without a cluster: never-downgrade, latestImage, previous refs, events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tide.image.budget import RegistryBudget
from tide.image.policy import ImagePolicyPipeline
from tide.image.tags import TagStore
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import Succeeded

pytestmark = pytest.mark.unit

IMAGE = "registry.example/team/app"


class Repositories:
    """Stands in for the ImageRepository watch cache (only ``get`` is read)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((namespace, name))


def repository() -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "ns"},
        "spec": {"image": IMAGE, "interval": "1m"},
        "status": {"lastScanResult": {"revision": "r", "tagCount": 1}},
    }


def policy(generation: int = 1, range_: str = ">=1.0.0") -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": "app", "namespace": "ns", "generation": generation},
        "spec": {"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": range_}}},
    }


@pytest.fixture
def store(tmp_path: Path) -> TagStore:
    return TagStore(tmp_path)


@pytest.fixture
def pipeline(store: TagStore) -> ImagePolicyPipeline:
    repos = Repositories()
    repos.objects[("ns", "app")] = repository()
    return ImagePolicyPipeline(
        client=None,  # type: ignore[arg-type]  # never called: same namespace, digests Never
        repositories=repos,  # type: ignore[arg-type]
        store=store,
        budget=RegistryBudget(),
        references=ReferencePolicy(),
    )


def scanned(store: TagStore, tags: list[str]) -> None:
    writer = store.writer("ns", "app")
    writer.add(tags)
    writer.commit(None)


def run(pipeline: ImagePolicyPipeline, obj: dict[str, Any], status: dict[str, Any]) -> Succeeded:
    outcome = asyncio.run(pipeline.run(obj, status, None))  # type: ignore[arg-type]
    assert isinstance(outcome, Succeeded)
    status["observedGeneration"] = obj["metadata"]["generation"]  # as the lifecycle settles it
    return outcome


def test_first_choice_sets_latest_ref_and_latest_image(
    pipeline: ImagePolicyPipeline, store: TagStore
) -> None:
    scanned(store, ["1.0.0", "1.1.0"])
    status: dict[str, Any] = {}
    outcome = run(pipeline, policy(), status)
    assert status["latestRef"] == {"name": IMAGE, "tag": "1.1.0"}
    assert status["latestImage"] == f"{IMAGE}:1.1.0"
    assert "observedPreviousRef" not in status
    assert outcome.message == f"Latest image tag for '{IMAGE}' resolved to 1.1.0"
    assert outcome.event_message is None


def test_a_newer_tag_moves_the_policy_with_an_updated_event(
    pipeline: ImagePolicyPipeline, store: TagStore
) -> None:
    scanned(store, ["1.0.0"])
    status: dict[str, Any] = {}
    run(pipeline, policy(), status)
    scanned(store, ["1.0.0", "1.2.0"])
    outcome = run(pipeline, policy(), status)
    assert status["latestRef"]["tag"] == "1.2.0"
    assert status["observedPreviousRef"] == {"name": IMAGE, "tag": "1.0.0"}
    assert status["observedPreviousImage"] == f"{IMAGE}:1.0.0"
    assert outcome.event_message == f"Latest image tag for '{IMAGE}' updated from 1.0.0 to 1.2.0"


def test_fewer_tags_never_move_the_policy_back(
    pipeline: ImagePolicyPipeline, store: TagStore
) -> None:
    scanned(store, ["1.0.0", "1.2.0"])
    status: dict[str, Any] = {}
    run(pipeline, policy(), status)
    scanned(store, ["1.0.0"])  # 1.2.0 deleted, or a partial listing
    outcome = run(pipeline, policy(), status)
    assert status["latestRef"]["tag"] == "1.2.0"
    assert "the registry's best match now is the older 1.0.0" in outcome.message
    assert outcome.event_message is None


def test_a_new_generation_may_choose_an_older_tag(
    pipeline: ImagePolicyPipeline, store: TagStore
) -> None:
    scanned(store, ["1.0.0", "1.2.0"])
    status: dict[str, Any] = {}
    run(pipeline, policy(), status)
    outcome = run(pipeline, policy(generation=2, range_="<1.2.0"), status)
    assert status["latestRef"]["tag"] == "1.0.0"
    assert outcome.event_message == f"Latest image tag for '{IMAGE}' updated from 1.2.0 to 1.0.0"


def test_the_same_answer_changes_nothing(pipeline: ImagePolicyPipeline, store: TagStore) -> None:
    scanned(store, ["1.0.0"])
    status: dict[str, Any] = {}
    run(pipeline, policy(), status)
    before = dict(status)
    outcome = run(pipeline, policy(), status)
    assert status == before
    assert outcome.event_message is None

"""ImageRepository against a real registry: scans, paging, idle rescans, bad input, memory."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

from tests.integration.helpers import condition
from tests.integration.image.conftest import (
    PASSWORD,
    WRONG_PASSWORD,
    Running,
    create_pull_secret,
    create_repository,
    repo_path,
    request_reconcile,
    wait_event,
    wait_ready,
)
from tide.image.setup import IMAGE_REPOSITORY
from tide.kube.client import KubeClient
from tide.testing import Registry, RegistryProxy

pytestmark = pytest.mark.integration


async def test_scan_reports_tags_canonical_name_and_keeps_signatures_out(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    path = repo_path(namespace)
    digest = registry.push_artifact(path, "1.0.0", {"a": "1"})
    registry.tag_many(
        path, digest, ["1.1.0", "latest", "sha256-abc.sig"] + [f"0.{i}.0" for i in range(12)]
    )
    await create_repository(kube, namespace, "app", f"{registry.host}/{path}")

    obj = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app")

    status = obj["status"]
    assert status["canonicalImageName"] == f"{registry.host}/{path}"
    assert status["observedExclusionList"] == [r"^.*\.sig$"]
    result = status["lastScanResult"]
    assert result["tagCount"] == 15
    assert result["latestTags"] == ["latest", "1.1.0", "1.0.0", "0.9.0", "0.8.0", "0.7.0",
                                    "0.6.0", "0.5.0", "0.4.0", "0.3.0"]  # fmt: skip
    assert condition(obj, "Ready")["message"] == "successful scan: found 15 tags"
    stored = reflector.reflector.store.path(namespace, "app")
    assert stored == reflector.storage / "imagerepository" / namespace / "app" / "tags.txt"
    assert "sha256-abc.sig" not in stored.read_text().split()
    await wait_event(
        kube, namespace, "app", type="Normal", reason="Succeeded",
        message="successful scan: found 15 tags",
    )  # fmt: skip


async def test_a_rescan_finding_the_same_tags_writes_nothing(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    path = repo_path(namespace)
    registry.push_artifact(path, "1.0.0", {"a": "1"})
    await create_repository(kube, namespace, "app", f"{registry.host}/{path}")
    first = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app")
    stored = reflector.reflector.store.path(namespace, "app")
    before = stored.stat()
    listings = reflector.reflector.budget.requests.get(registry.host, 0)

    await request_reconcile(kube, IMAGE_REPOSITORY, namespace, "app", "again")
    again = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app")

    assert reflector.reflector.budget.requests[registry.host] > listings  # it did scan
    after = stored.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list(stored.parent.iterdir()) == [stored]
    revision = first["status"]["lastScanResult"]["revision"]
    assert again["status"]["lastScanResult"]["revision"] == revision


async def test_pages_are_followed_through_link_headers(
    kube: KubeClient,
    namespace: str,
    reflector: Running,
    registry: Registry,
    paging_proxy: RegistryProxy,
) -> None:
    path = repo_path(namespace)
    digest = registry.push_artifact(path, "1.0.0", {"a": "1"})
    registry.tag_many(path, digest, [f"1.0.{i}" for i in range(1, 10)])  # 10 tags, pages of 3
    await create_repository(kube, namespace, "app", f"{paging_proxy.host}/{path}")

    obj = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app")

    assert obj["status"]["lastScanResult"]["tagCount"] == 10
    pages = [p for m, p in paging_proxy.calls if m == "GET" and f"/{path}/tags/list" in p]
    assert len(pages) == 4
    assert pages[0].endswith("?n=1000")
    assert sorted(reflector.reflector.store.read(namespace, "app")) == sorted(
        ["1.0.0"] + [f"1.0.{i}" for i in range(1, 10)]
    )


async def test_wrong_credentials_fail_authentication_without_leaking_them(
    kube: KubeClient, namespace: str, reflector: Running, private_registry: Registry
) -> None:
    path = repo_path(namespace)
    private_registry.push_artifact(path, "1.0.0", {"a": "1"})
    host = private_registry.host
    await create_pull_secret(kube, namespace, "wrong", host, password=WRONG_PASSWORD)
    await create_repository(kube, namespace, "app", f"{host}/{path}", secretRef={"name": "wrong"})

    obj = await wait_ready(
        kube, IMAGE_REPOSITORY, namespace, "app", status="False", reason="AuthenticationFailed"
    )

    message = condition(obj, "Ready")["message"]
    assert message == f"scan failed: the registry '{host}' refused the credentials"
    warnings = await wait_event(
        kube, namespace, "app", type="Warning", reason="AuthenticationFailed"
    )
    assert all(WRONG_PASSWORD not in e["message"] for e in warnings)
    assert WRONG_PASSWORD not in str(obj["status"])


async def test_good_credentials_scan_a_private_registry(
    kube: KubeClient, namespace: str, reflector: Running, private_registry: Registry
) -> None:
    path = repo_path(namespace)
    private_registry.push_artifact(path, "2.0.0", {"a": "1"})
    host = private_registry.host
    await create_pull_secret(kube, namespace, "creds", host, password=PASSWORD)
    await create_repository(kube, namespace, "app", f"{host}/{path}", secretRef={"name": "creds"})

    obj = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app")

    assert obj["status"]["lastScanResult"]["latestTags"] == ["2.0.0"]


async def test_an_unknown_image_is_a_read_failure_naming_it(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    image = f"{registry.host}/nobody/{namespace[-8:]}"
    await create_repository(kube, namespace, "app", image)

    obj = await wait_ready(
        kube, IMAGE_REPOSITORY, namespace, "app", status="False", reason="ReadOperationFailed"
    )

    message = condition(obj, "Ready")["message"]
    assert message.startswith(f"scan failed: repository '{image}' not found")
    assert "NAME_UNKNOWN" in message
    assert condition(obj, "Stalled") is None  # retried: the image may be pushed later


@pytest.mark.parametrize(
    ("spec", "reason", "message"),
    [
        (
            {"exclusionList": ["^ok$", "(unclosed"]},
            "InvalidConfig",
            "spec.exclusionList[1] '(unclosed' is not a valid regular expression: missing ), "
            "unterminated subpattern at position 0",
        ),
        ({"image": "ghcr.io/org/app:1.0"}, "ImageURLInvalid", "spec.image 'ghcr.io/org/app:1.0'"),
    ],
)
async def test_a_spec_that_cannot_work_stalls_with_the_field(
    kube: KubeClient,
    namespace: str,
    reflector: Running,
    registry: Registry,
    spec: dict[str, Any],
    reason: str,
    message: str,
) -> None:
    fields = {"image": f"{registry.host}/{repo_path(namespace)}", **spec}
    await create_repository(kube, namespace, "app", **fields)

    obj = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app", status="False", reason=reason)

    assert condition(obj, "Stalled")["status"] == "True"
    assert condition(obj, "Ready")["message"].startswith(message)
    warnings = await wait_event(kube, namespace, "app", type="Warning", reason=reason)
    assert {e["reason"] for e in warnings} == {reason}


async def test_ten_thousand_tags_stay_out_of_memory_and_status(
    kube: KubeClient, namespace: str, reflector: Running, registry: Registry
) -> None:
    path = repo_path(namespace)
    digest = registry.push_artifact(path, "0.0.0", {"a": "1"})
    registry.tag_many(path, digest, [f"1.{i // 100}.{i % 100}" for i in range(9999)])
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        await create_repository(kube, namespace, "app", f"{registry.host}/{path}")
        obj = await wait_ready(kube, IMAGE_REPOSITORY, namespace, "app", timeout=60)
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert obj["status"]["lastScanResult"]["tagCount"] == 10000
    assert len(obj["status"]["lastScanResult"]["latestTags"]) == 10
    # One page (here the registry's whole answer: ~150 KB of JSON, 10 000 strings) at a time,
    # and nothing of it kept once stored.
    assert peak - baseline < 4 << 20, f"peak grew by {(peak - baseline) >> 10} KiB"
    assert retained - baseline < 512 << 10, f"kept {(retained - baseline) >> 10} KiB"
    assert sum(1 for _ in reflector.reflector.store.read(namespace, "app")) == 10000

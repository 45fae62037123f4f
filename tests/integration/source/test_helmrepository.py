"""HelmRepository against a real chart repository and a real API server.

Also home of the ``helm_controller`` fixture and the helpers ``test_helmchart.py`` imports: the
source controller (GitRepository and artifact server, from ``source.setup``) plus the
HelmRepository and HelmChart controllers, running in this process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.integration.helpers import (
    assert_kstatus,
    condition,
    events_for,
    eventually,
    reconcile_count,
    settled,
)
from tests.integration.source.conftest import INDEX_LIMIT, b64, create_secret
from tide.api.keys import FINALIZER, REQUESTED_AT
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.source.helmrepository import HELM_REPOSITORY
from tide.source.setup import SourceRuntime
from tide.testing import ChartRepository
from tide.testing._certs import CertificateAuthority
from tide.testing._process import free_port

pytestmark = pytest.mark.integration

USER, PASSWORD = "helm-user", "helm-s3cret"
"""The index size limit the tests run with (Flux's 50 MiB would need 50 MiB test indexes)."""


@dataclass
class HelmController:
    """The running source controller with the Helm kinds, for tests to inspect."""

    manager: Manager
    runtime: SourceRuntime
    repositories: Controller
    charts: Controller
    index_limit: int


@pytest.fixture
def helm_controller(source_controller: tuple[Manager, SourceRuntime]) -> HelmController:
    """The source controller (which runs the HelmRepository and HelmChart controllers)."""
    manager, runtime = source_controller
    return HelmController(
        manager,
        runtime,
        runtime.controllers["helmrepository"],
        runtime.controllers["helmchart"],
        INDEX_LIMIT,
    )


@pytest.fixture
def chart_repo() -> Iterator[ChartRepository]:
    """An open chart repository with two versions of chart ``demo``."""
    with ChartRepository() as repo:
        repo.add_chart("demo", "1.0.0")
        repo.add_chart("demo", "1.1.0")
        yield repo


@pytest.fixture
def private_repo() -> Iterator[ChartRepository]:
    """A chart repository behind basic auth, with chart ``demo`` 1.0.0."""
    with ChartRepository(username=USER, password=PASSWORD) as repo:
        repo.add_chart("demo", "1.0.0")
        yield repo


# -- helpers shared with test_helmchart.py ---------------------------------------------------------
async def create_helm_repository(
    kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]
) -> None:
    await kube.create(HELM_REPOSITORY, {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "10m", **spec},
    })  # fmt: skip


async def wait_ready(
    kube: KubeClient,
    rt: ResourceType,
    namespace: str,
    name: str,
    *,
    status: str,
    reason: str | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """Wait until Ready has ``status`` (and ``reason``) for the object's current generation."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(rt, name, namespace=namespace)
        ready = condition(obj, "Ready")
        current = (
            ready is not None and ready.get("observedGeneration") == obj["metadata"]["generation"]
        )
        wanted = reason is None or (ready is not None and ready["reason"] == reason)
        if ready and current and ready["status"] == status and wanted:
            return obj
        return None

    return await eventually(
        probe, timeout=timeout, what=f"{rt.kind} {name} Ready={status} {reason or ''}"
    )


async def failing(
    kube: KubeClient,
    rt: ResourceType,
    namespace: str,
    name: str,
    reason: str,
    *,
    fragment: str,
    negative: str = "FetchFailed",
    stalled: bool = False,
) -> dict[str, Any]:
    """Wait for Ready=False with ``reason``; check the negative condition, event and message."""
    obj = await wait_ready(kube, rt, namespace, name, status="False", reason=reason)
    ready = condition(obj, "Ready")
    assert ready is not None and fragment in ready["message"], ready
    failed = condition(obj, negative)
    assert failed is not None and failed["status"] == "True" and failed["reason"] == reason
    if stalled:
        assert (condition(obj, "Stalled") or {}).get("reason") == reason
    else:
        # Retried: never Stalled; Reconciling (if the generation has not settled yet) says so.
        assert condition(obj, "Stalled") is None
        reconciling = condition(obj, "Reconciling")
        assert reconciling is None or reconciling["reason"] == "ProgressingWithRetry"
    assert_kstatus(obj)

    async def warned() -> bool:  # the event is recorded just after the status write
        events = await events_for(kube, namespace, name)
        return any(
            e["type"] == "Warning" and e["reason"] == reason and fragment in e["message"]
            for e in events
        )

    await eventually(warned, timeout=10, what=f"a Warning event with reason {reason}")
    return obj


async def request_reconcile(kube: KubeClient, rt: ResourceType, namespace: str, name: str) -> None:
    stamp = f"{asyncio.get_running_loop().time():.6f}"
    await kube.patch_merge(
        rt, name, {"metadata": {"annotations": {REQUESTED_AT: stamp}}}, namespace=namespace
    )


async def assert_served(artifact: dict[str, Any]) -> bytes:
    """Download ``artifact`` from the artifact server and check its digest and size."""
    async with httpx.AsyncClient() as http:
        response = await http.get(artifact["url"])
    assert response.status_code == 200, artifact["url"]
    assert f"sha256:{hashlib.sha256(response.content).hexdigest()}" == artifact["digest"]
    assert len(response.content) == artifact["size"]
    return response.content


# -- publishing ------------------------------------------------------------------------------------
async def test_index_is_published_as_a_normalised_artifact_whose_digest_is_the_revision(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})

    obj = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")

    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == artifact["digest"]
    assert artifact["revision"].startswith("sha256:")
    assert obj["status"]["url"] == artifact["url"]
    ready = condition(obj, "Ready")
    assert ready is not None and ready["reason"] == "Succeeded"
    assert ready["message"] == f"stored artifact: revision '{artifact['revision']}'"
    assert (condition(obj, "ArtifactInStorage") or {}).get("status") == "True"
    assert_kstatus(obj)
    index = json.loads(await assert_served(artifact))
    assert index["apiVersion"] == "v1"
    assert [v["version"] for v in index["entries"]["demo"]] == ["1.1.0", "1.0.0"]
    events = await events_for(kube, namespace, "charts")
    new = [e for e in events if e["reason"] == "NewArtifact"]
    assert new and new[0]["type"] == "Normal"
    assert f"from '{chart_repo.url}'" in new[0]["message"]
    assert "stored fetched index of size" in new[0]["message"]


async def test_a_new_chart_version_becomes_a_new_index_artifact_on_request(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})
    first = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    chart_repo.add_chart("demo", "2.0.0")

    await request_reconcile(kube, HELM_REPOSITORY, namespace, "charts")

    async def moved() -> dict[str, Any] | None:
        obj = await kube.get(HELM_REPOSITORY, "charts", namespace=namespace)
        revision = obj["status"]["artifact"]["revision"]
        return obj if revision != first["status"]["artifact"]["revision"] else None

    obj = await eventually(moved, what="a new index revision")
    index = json.loads(await assert_served(obj["status"]["artifact"]))
    assert [v["version"] for v in index["entries"]["demo"]] == ["2.0.0", "1.1.0", "1.0.0"]


async def test_unchanged_index_makes_no_writes(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    manager = helm_controller.manager
    await create_helm_repository(
        kube, namespace, "charts", {"url": chart_repo.url, "interval": "1s"}
    )
    await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    quiet = await settled(kube, manager, HELM_REPOSITORY, namespace, "charts")
    writes = manager.client.total_writes(namespace=namespace)
    fetched = chart_repo.request_count
    reconciles = reconcile_count("HelmRepository", namespace, "charts")

    async def two_more() -> bool:
        return reconcile_count("HelmRepository", namespace, "charts") >= reconciles + 2

    await eventually(two_more, timeout=20, what="two interval reconciles")
    after = await settled(kube, manager, HELM_REPOSITORY, namespace, "charts")
    assert chart_repo.request_count >= fetched + 2  # it did look at the index, every second
    assert manager.client.total_writes(namespace=namespace) == writes, manager.client.writes
    assert after["metadata"]["resourceVersion"] == quiet["metadata"]["resourceVersion"]


# -- credentials and TLS ---------------------------------------------------------------------------
async def test_basic_auth_from_the_secret_reaches_a_private_repository(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    private_repo: ChartRepository,
) -> None:
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_helm_repository(kube, namespace, "charts", {
        "url": private_repo.url, "secretRef": {"name": "creds"},
    })  # fmt: skip

    obj = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")

    assert "demo" in json.loads(await assert_served(obj["status"]["artifact"]))["entries"]


async def test_wrong_password_is_an_authentication_failure_and_keeps_the_artifact_served(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    private_repo: ChartRepository,
) -> None:
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_helm_repository(kube, namespace, "charts", {
        "url": private_repo.url, "secretRef": {"name": "creds"},
    })  # fmt: skip
    good = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    wrong = "not-the-password"
    await kube.patch_merge(
        resources.SECRET,
        "creds",
        {"data": {"password": b64(wrong)}},
        namespace=namespace,
    )

    await request_reconcile(kube, HELM_REPOSITORY, namespace, "charts")

    obj = await failing(
        kube, HELM_REPOSITORY, namespace, "charts", "AuthenticationFailed", fragment="401"
    )
    assert obj["status"]["artifact"] == good["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])
    texts = [e["message"] for e in await events_for(kube, namespace, "charts")]
    texts += [c["message"] for c in obj["status"]["conditions"]]
    assert not any(wrong in text or PASSWORD in text for text in texts)


async def test_missing_secret_is_an_authentication_failure(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    private_repo: ChartRepository,
) -> None:
    await create_helm_repository(kube, namespace, "charts", {
        "url": private_repo.url, "secretRef": {"name": "absent"},
    })  # fmt: skip

    await failing(
        kube,
        HELM_REPOSITORY,
        namespace,
        "charts",
        "AuthenticationFailed",
        fragment=f"Secret '{namespace}/absent' (spec.secretRef) not found",
    )


async def test_https_with_the_ca_from_cert_secret_ref(
    kube: KubeClient, namespace: str, helm_controller: HelmController
) -> None:
    with ChartRepository(tls=True) as repo:
        repo.add_chart("demo", "1.0.0")
        assert repo.ca_pem is not None
        await create_secret(kube, namespace, "ca", {"ca.crt": repo.ca_pem})
        await create_helm_repository(kube, namespace, "trusted", {
            "url": repo.url, "certSecretRef": {"name": "ca"},
        })  # fmt: skip
        await create_helm_repository(kube, namespace, "untrusted", {"url": repo.url})

        await wait_ready(kube, HELM_REPOSITORY, namespace, "trusted", status="True")
        await failing(
            kube,
            HELM_REPOSITORY,
            namespace,
            "untrusted",
            "Failed",
            fragment="CERTIFICATE_VERIFY_FAILED",
        )


async def test_client_key_pair_is_loaded_and_half_a_pair_is_refused(
    kube: KubeClient, namespace: str, helm_controller: HelmController
) -> None:
    client = CertificateAuthority("helm-client-ca").issue("tide")
    with ChartRepository(tls=True) as repo:
        repo.add_chart("demo", "1.0.0")
        assert repo.ca_pem is not None
        await create_secret(kube, namespace, "full", {
            "ca.crt": repo.ca_pem, "tls.crt": client.cert_pem, "tls.key": client.key_pem,
        })  # fmt: skip
        await create_secret(kube, namespace, "half", {
            "ca.crt": repo.ca_pem, "tls.crt": client.cert_pem,
        })  # fmt: skip
        for name in ("full", "half"):
            await create_helm_repository(kube, namespace, name, {
                "url": repo.url, "certSecretRef": {"name": name},
            })  # fmt: skip

        await wait_ready(kube, HELM_REPOSITORY, namespace, "full", status="True")
        await failing(
            kube,
            HELM_REPOSITORY,
            namespace,
            "half",
            "AuthenticationFailed",
            fragment="'tls.crt' and 'tls.key' must both be set",
        )


# -- bad input ---------------------------------------------------------------------------------
async def test_unreachable_host_fails_and_keeps_the_artifact_served(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})
    good = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    port = free_port()

    await kube.patch_merge(
        HELM_REPOSITORY,
        "charts",
        {"spec": {"url": f"http://127.0.0.1:{port}/charts"}},
        namespace=namespace,
    )

    obj = await failing(
        kube, HELM_REPOSITORY, namespace, "charts", "Failed", fragment=f"127.0.0.1:{port}"
    )
    assert obj["status"]["artifact"] == good["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])


async def test_malformed_index_names_the_problem_and_keeps_the_artifact_served(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})
    good = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    chart_repo.write_index("apiVersion: v1\nentries:\n  demo: [\n")

    await request_reconcile(kube, HELM_REPOSITORY, namespace, "charts")

    obj = await failing(
        kube,
        HELM_REPOSITORY,
        namespace,
        "charts",
        "IndexationFailed",
        fragment="malformed index.yaml: not valid YAML",
    )
    assert "line 4" in condition(obj, "Ready")["message"]  # type: ignore[index]
    assert obj["status"]["artifact"] == good["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])


async def test_index_without_api_version_is_refused(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    chart_repo.write_index("entries: {}\n")
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})

    obj = await failing(
        kube,
        HELM_REPOSITORY,
        namespace,
        "charts",
        "IndexationFailed",
        fragment="malformed index.yaml: no API version specified",
    )
    assert "artifact" not in obj["status"]


async def test_index_over_the_size_limit_is_refused_and_keeps_the_artifact_served(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})
    good = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    limit = helm_controller.index_limit
    padding = "# padding\n" * (limit // 10 + 1)
    chart_repo.write_index(f"apiVersion: v1\nentries: {{}}\n{padding}")

    await request_reconcile(kube, HELM_REPOSITORY, namespace, "charts")

    obj = await failing(
        kube,
        HELM_REPOSITORY,
        namespace,
        "charts",
        "Failed",
        fragment=f"index exceeds the maximum index file size of {limit} bytes",
    )
    assert obj["status"]["artifact"] == good["status"]["artifact"]
    await assert_served(obj["status"]["artifact"])


async def test_timeout_is_reported_with_the_spec_value(
    kube: KubeClient, namespace: str, helm_controller: HelmController, silent_port: int
) -> None:
    await create_helm_repository(kube, namespace, "charts", {
        "url": f"http://127.0.0.1:{silent_port}", "timeout": "1s",
    })  # fmt: skip

    await failing(
        kube,
        HELM_REPOSITORY,
        namespace,
        "charts",
        "Failed",
        fragment="timed out after 1s (spec.timeout)",
    )


async def test_oci_url_on_a_default_repository_stalls(
    kube: KubeClient, namespace: str, helm_controller: HelmController
) -> None:
    await create_helm_repository(kube, namespace, "charts", {"url": "oci://127.0.0.1/charts"})

    await failing(
        kube,
        HELM_REPOSITORY,
        namespace,
        "charts",
        "URLInvalid",
        fragment="'oci' URL scheme cannot be used with 'default' HelmRepository type",
        stalled=True,
    )


# -- type: oci and deletion -------------------------------------------------------------------
async def test_oci_repositories_are_static_and_a_default_one_turned_oci_is_cleaned_up(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    storage = helm_controller.runtime.storage
    await create_helm_repository(kube, namespace, "was-default", {"url": chart_repo.url})
    good = await wait_ready(kube, HELM_REPOSITORY, namespace, "was-default", status="True")
    stored = storage.local_path(good["status"]["artifact"]["path"])
    assert stored.is_file()
    await create_helm_repository(kube, namespace, "static", {
        "url": "oci://127.0.0.1:5000/charts", "type": "oci",
    })  # fmt: skip

    await kube.patch_merge(
        HELM_REPOSITORY,
        "was-default",
        {"spec": {"type": "oci", "url": "oci://127.0.0.1:5000/charts"}},
        namespace=namespace,
    )

    async def migrated() -> dict[str, Any] | None:
        obj = await kube.get(HELM_REPOSITORY, "was-default", namespace=namespace)
        finalizers = obj["metadata"].get("finalizers") or []
        # A cleared status reads back as the CRD's default, observedGeneration -1.
        empty = obj.get("status") in (None, {}, {"observedGeneration": -1})
        return obj if empty and FINALIZER not in finalizers else None

    await eventually(migrated, what="the repository turned oci to be made static")
    assert not stored.exists()
    static = await kube.get(HELM_REPOSITORY, "static", namespace=namespace)
    assert static.get("status") in (None, {}, {"observedGeneration": -1})
    assert FINALIZER not in (static["metadata"].get("finalizers") or [])


async def test_deleting_the_repository_removes_its_artifacts(
    kube: KubeClient,
    namespace: str,
    helm_controller: HelmController,
    chart_repo: ChartRepository,
) -> None:
    storage = helm_controller.runtime.storage
    await create_helm_repository(kube, namespace, "charts", {"url": chart_repo.url})
    obj = await wait_ready(kube, HELM_REPOSITORY, namespace, "charts", status="True")
    stored = storage.local_path(obj["status"]["artifact"]["path"])
    assert stored.is_file()

    await kube.delete(HELM_REPOSITORY, "charts", namespace=namespace)

    async def removed() -> bool:
        gone = await kube.get_or_none(HELM_REPOSITORY, "charts", namespace=namespace)
        return gone is None and not stored.exists()

    await eventually(removed, what="the artifact and the object to be gone")

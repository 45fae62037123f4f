"""OCIRepository against a real registry: refs, layers, auth, TLS, idle cost and bad input.

Every object is reconciled by the real controller on the real control plane, pulling from Debian's
``docker-registry`` on loopback; artifacts are downloaded from the real artifact server and
checked against their published digest.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from tests.integration.helpers import assert_kstatus, condition, eventually, reconcile_count
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.ocirepository import OCI_REPOSITORY
from tide.source.setup import SourceRuntime
from tide.testing import Registry
from tide.testing._process import free_port

pytestmark = pytest.mark.integration

USER, PASSWORD = "flux", "s3cret-pass"
WRONG_PASSWORD = "Zq9-n0t-the-pa55"
CUSTOM_LAYER = "application/vnd.example.config.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


# -- servers ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    """An anonymous registry over plain HTTP (OCIRepositories reach it with insecure: true)."""
    with Registry() as server:
        yield server


@pytest.fixture(scope="module")
def private_registry() -> Iterator[Registry]:
    """A registry that demands basic auth (htpasswd)."""
    with Registry(username=USER, password=PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[Registry]:
    """A registry over HTTPS with a certificate from its own CA."""
    with Registry(tls=True) as server:
        yield server


class RecordingProxy:
    """A plain-HTTP reverse proxy in front of a registry that records every call it forwards.

    It shows what the controller asked the registry for (a HEAD per reconcile, blob downloads),
    which the registry itself does not report.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._http = httpx.AsyncClient(timeout=10)
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._http.aclose()

    def blob_downloads(self) -> list[str]:
        return [path for method, path in self.calls if method == "GET" and "/blobs/" in path]

    async def _forward(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.path))
        skip = {"host", "content-length", "transfer-encoding", "connection"}
        answer = await self._http.request(
            request.method,
            self.upstream + request.path_qs,
            headers={k: v for k, v in request.headers.items() if k.lower() not in skip},
            content=await request.read(),
        )
        skip |= {"content-encoding"}
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in skip}
        return web.Response(status=answer.status_code, headers=headers, body=answer.content)


@pytest_asyncio.fixture(loop_scope="session")
async def proxy(registry: Registry) -> AsyncIterator[RecordingProxy]:
    recording = RecordingProxy(registry.url)
    await recording.start()
    yield recording
    await recording.stop()


@pytest.fixture
def oci_controller(source_controller: tuple[Manager, SourceRuntime]) -> Manager:
    """The source controller (which runs the OCIRepository controller)."""
    return source_controller[0]


# -- helpers ---------------------------------------------------------------------------------------
def b64(value: str | bytes) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


def repo_name(namespace: str, base: str = "app") -> str:
    """A repository path of its own per test, so module-scoped registries are not shared."""
    return f"{base}/{namespace[-8:]}"


async def create_oci_repository(
    kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]
) -> None:
    await kube.create(OCI_REPOSITORY, {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "10m", **spec},
    })  # fmt: skip


async def create_pull_secret(
    kube: KubeClient, namespace: str, name: str, host: str, password: str = PASSWORD
) -> None:
    auth = {"username": USER, "password": password, "auth": b64(f"{USER}:{password}")}
    config = json.dumps({"auths": {host: auth}})
    await kube.create(resources.SECRET, {
        "metadata": {"name": name, "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(config)},
    })  # fmt: skip


async def patch_spec(kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]) -> None:
    await kube.patch_merge(OCI_REPOSITORY, name, {"spec": spec}, namespace=namespace)


async def request_reconcile(kube: KubeClient, namespace: str, name: str, token: str) -> None:
    patch = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}
    await kube.patch_merge(OCI_REPOSITORY, name, patch, namespace=namespace)


async def wait_ready(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    status: str = "True",
    reason: str | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    """Wait until Ready has ``status`` (and ``reason``, and artifact ``revision``) for the
    current generation and the last ``requestedAt``."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(OCI_REPOSITORY, name, namespace=namespace)
        ready = condition(obj, "Ready") or {}
        requested = (obj["metadata"].get("annotations") or {}).get(
            "reconcile.fluxcd.io/requestedAt"
        )
        handled = (obj.get("status") or {}).get("lastHandledReconcileAt")
        artifact = (obj.get("status") or {}).get("artifact") or {}
        if (
            ready.get("observedGeneration") == obj["metadata"]["generation"]
            and ready.get("status") == status
            and (reason is None or ready.get("reason") == reason)
            and (revision is None or artifact.get("revision") == revision)
            and requested == handled
        ):
            return obj
        return None

    what = f"OCIRepository {name} Ready={status} {reason or ''} {revision or ''}"
    return await eventually(probe, timeout=30, what=what)


async def download(artifact: dict[str, Any]) -> bytes:
    """Fetch an artifact from the artifact server and check its published digest."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(artifact["url"])
    assert answer.status_code == 200
    assert "sha256:" + hashlib.sha256(answer.content).hexdigest() == artifact["digest"]
    assert len(answer.content) == artifact["size"]
    return answer.content


def archive_files(data: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {
            m.name: archive.extractfile(m).read().decode()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }


async def events_for(kube: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    return [e for e in events if e["involvedObject"]["name"] == name]


def layer_digest(registry: Registry, repository: str, tag: str) -> str:
    with httpx.Client(base_url=registry.url) as http:
        answer = http.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
    return str(answer.json()["layers"][0]["digest"])


async def established(
    kube: KubeClient, namespace: str, registry: Registry, spec: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An OCIRepository "app" that pulled tag v1 and published its artifact."""
    repository = repo_name(namespace)
    digest = registry.push_artifact(repository, "v1", {"app.yaml": "kind: ConfigMap\n"})
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{registry.host}/{repository}", "insecure": True, "ref": {"tag": "v1"},
        **(spec or {}),
    })  # fmt: skip
    return await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")


async def failing(
    kube: KubeClient, namespace: str, reason: str, *, fragment: str
) -> dict[str, Any]:
    """Wait for Ready=False with ``reason``; check FetchFailed, Reconciling, the event."""
    obj = await wait_ready(kube, namespace, "app", status="False", reason=reason)
    ready = condition(obj, "Ready") or {}
    assert fragment in ready["message"], ready["message"]
    fetch_failed = condition(obj, "FetchFailed") or {}
    assert (fetch_failed.get("status"), fetch_failed.get("reason")) == ("True", reason)
    if obj["status"].get("observedGeneration") != obj["metadata"]["generation"]:
        # A generation that never settled is still in progress, retrying (kstatus).
        assert (condition(obj, "Reconciling") or {}).get("reason") == "ProgressingWithRetry"
    assert_kstatus(obj)

    async def warned() -> bool:  # the event is recorded just after the status write
        events = await events_for(kube, namespace, "app")
        return any(
            e["type"] == "Warning" and e["reason"] == reason and fragment in e["message"]
            for e in events
        )

    await eventually(warned, timeout=10, what=f"a Warning event with reason {reason}")
    return obj


async def keeps_serving(obj: dict[str, Any], before: dict[str, Any]) -> None:
    """The failed object still publishes the previous artifact, and the server still has it."""
    assert obj["status"]["artifact"] == before["status"]["artifact"]
    await download(obj["status"]["artifact"])


# -- references ------------------------------------------------------------------------------------
async def test_a_tag_is_pulled_into_an_artifact_with_flux_revision_metadata_and_event(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    files = {
        "deploy/app.yaml": "kind: ConfigMap\n",
        "deploy/notes.md": "not for the cluster\n",
        "logo.png": "binary",
    }
    origin = {
        "org.opencontainers.image.source": "https://github.com/example/app",
        "org.opencontainers.image.revision": "main@sha1:0123abcd",
    }
    digest = registry.push_artifact(repository, "v1.0.0", files, annotations=origin)
    url = f"oci://{registry.host}/{repository}"
    await create_oci_repository(kube, namespace, "app", {
        "url": url, "insecure": True, "ref": {"tag": "v1.0.0"}, "ignore": "*.md\n",
    })  # fmt: skip

    revision = f"v1.0.0@{digest}"
    obj = await wait_ready(kube, namespace, "app", revision=revision)

    status = obj["status"]
    artifact = status["artifact"]
    assert artifact["path"].startswith(f"ocirepository/{namespace}/app/")
    assert artifact["metadata"]["org.opencontainers.image.revision"] == "main@sha1:0123abcd"
    # Flux's default exclusions (*.png) and spec.ignore (*.md) both apply to the re-archive.
    assert archive_files(await download(artifact)) == {"deploy/app.yaml": "kind: ConfigMap\n"}
    assert status["observedIgnore"] == "*.md\n"
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    message = f"stored artifact for digest '{revision}'"
    assert condition(obj, "Ready")["message"] == message
    assert condition(obj, "ArtifactInStorage")["message"] == message
    assert condition(obj, "FetchFailed") is None
    assert_kstatus(obj)
    events = await events_for(kube, namespace, "app")
    new = [e for e in events if e["reason"] == "NewArtifact"]
    assert [e["message"] for e in new] == [
        f"stored artifact with revision '{revision}' from '{url}', origin source "
        "'https://github.com/example/app', origin revision 'main@sha1:0123abcd'"
    ]
    assert new[0]["type"] == "Normal" and new[0]["source"]["component"] == "source-controller"


async def test_semver_picks_the_highest_matching_tag_and_the_filter_narrows_the_tags(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    digests = {
        tag: registry.push_artifact(repository, tag, {"version.txt": tag})
        for tag in ("1.0.0", "1.2.0", "v1.3.0-rc.1", "2.0.0", "latest")
    }
    url = f"oci://{registry.host}/{repository}"
    await create_oci_repository(kube, namespace, "stable", {
        "url": url, "insecure": True, "ref": {"semver": "1.x", "tag": "2.0.0"},
    })  # fmt: skip
    await create_oci_repository(kube, namespace, "candidates", {
        "url": url, "insecure": True, "ref": {"semver": ">=1.0.0-0", "semverFilter": ".*-rc.*"},
    })  # fmt: skip

    stable = await wait_ready(kube, namespace, "stable", revision=f"1.2.0@{digests['1.2.0']}")
    rc = f"v1.3.0-rc.1@{digests['v1.3.0-rc.1']}"
    candidates = await wait_ready(kube, namespace, "candidates", revision=rc)

    assert archive_files(await download(stable["status"]["artifact"])) == {"version.txt": "1.2.0"}
    assert archive_files(await download(candidates["status"]["artifact"])) == {
        "version.txt": "v1.3.0-rc.1"
    }


async def test_a_digest_reference_wins_over_the_tag_and_is_its_own_revision(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    old = registry.push_artifact(repository, "v1", {"a.yaml": "old\n"})
    registry.push_artifact(repository, "v1", {"a.yaml": "new\n"})
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{registry.host}/{repository}", "insecure": True,
        "ref": {"tag": "v1", "digest": old},
    })  # fmt: skip

    obj = await wait_ready(kube, namespace, "app", revision=old)

    assert archive_files(await download(obj["status"]["artifact"])) == {"a.yaml": "old\n"}


async def test_without_a_ref_the_latest_tag_is_pulled(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    registry.push_artifact(repository, "v1", {"a.yaml": "v1\n"})
    latest = registry.push_artifact(repository, "latest", {"a.yaml": "latest\n"})
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{registry.host}/{repository}", "insecure": True,
    })  # fmt: skip

    obj = await wait_ready(kube, namespace, "app", revision=f"latest@{latest}")

    assert archive_files(await download(obj["status"]["artifact"])) == {"a.yaml": "latest\n"}


# -- layers ----------------------------------------------------------------------------------------
async def test_copy_stores_the_layer_as_is_and_switching_to_extract_rebuilds_it(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    files = {"config.yaml": "a: 1\n", "icon.png": "binary"}
    digest = registry.push_artifact(repository, "v1", files, media_type=CUSTOM_LAYER)
    selector = {"mediaType": CUSTOM_LAYER, "operation": "copy"}
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{registry.host}/{repository}", "insecure": True, "ref": {"tag": "v1"},
        "layerSelector": selector,
    })  # fmt: skip

    copied = await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")

    assert copied["status"]["artifact"]["digest"] == layer_digest(registry, repository, "v1")
    assert archive_files(await download(copied["status"]["artifact"])) == files
    assert copied["status"]["observedLayerSelector"] == selector

    await patch_spec(kube, namespace, "app", {"layerSelector": {"operation": "extract"}})
    extracted = await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")

    artifact = extracted["status"]["artifact"]
    assert artifact["digest"] != copied["status"]["artifact"]["digest"]
    assert archive_files(await download(artifact)) == {"config.yaml": "a: 1\n"}
    assert extracted["status"]["observedLayerSelector"] == {
        "mediaType": CUSTOM_LAYER,
        "operation": "extract",
    }


async def test_a_media_type_no_layer_has_fails_the_layer_operation(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    before = await established(kube, namespace, registry)

    await patch_spec(kube, namespace, "app", {"layerSelector": {"mediaType": CUSTOM_LAYER}})

    obj = await failing(
        kube,
        namespace,
        "OCIArtifactLayerOperationFailed",
        fragment=f"failed to find layer with media type '{CUSTOM_LAYER}' in artifact",
    )
    await keeps_serving(obj, before)


# -- authentication and TLS ------------------------------------------------------------------------
async def test_basic_auth_comes_from_a_dockerconfigjson_secret(
    kube: KubeClient, namespace: str, private_registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    digest = private_registry.push_artifact(repository, "v1", {"a.yaml": "private\n"})
    await create_pull_secret(kube, namespace, "creds", private_registry.host)
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{private_registry.host}/{repository}", "insecure": True,
        "ref": {"tag": "v1"}, "secretRef": {"name": "creds"},
    })  # fmt: skip

    obj = await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")

    assert archive_files(await download(obj["status"]["artifact"])) == {"a.yaml": "private\n"}
    events = await events_for(kube, namespace, "app")
    assert PASSWORD not in json.dumps(obj) + json.dumps(events)


async def test_the_image_pull_secrets_of_a_service_account_are_used(
    kube: KubeClient, namespace: str, private_registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    digest = private_registry.push_artifact(repository, "v1", {"a.yaml": "via sa\n"})
    await create_pull_secret(kube, namespace, "pull", private_registry.host)
    await kube.create(resources.SERVICE_ACCOUNT, {
        "metadata": {"name": "puller", "namespace": namespace},
        "imagePullSecrets": [{"name": "pull"}],
    })  # fmt: skip
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{private_registry.host}/{repository}", "insecure": True,
        "ref": {"tag": "v1"}, "serviceAccountName": "puller",
    })  # fmt: skip

    await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")


async def test_anonymous_pull_from_a_registry_with_auth_is_an_authentication_failure(
    kube: KubeClient, namespace: str, private_registry: Registry, oci_controller: Manager
) -> None:
    repository = repo_name(namespace)
    private_registry.push_artifact(repository, "v1", {"a.yaml": "private\n"})
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{private_registry.host}/{repository}", "insecure": True,
        "ref": {"tag": "v1"},
    })  # fmt: skip

    obj = await failing(
        kube,
        namespace,
        "AuthenticationFailed",
        fragment=(
            f"failed to determine artifact digest: the registry '{private_registry.host}' "
            "requires authentication and no credentials were given for it"
        ),
    )
    assert "artifact" not in obj["status"]


async def test_a_missing_secret_is_an_authentication_failure_naming_it(
    kube: KubeClient, namespace: str, private_registry: Registry, oci_controller: Manager
) -> None:
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://{private_registry.host}/{repo_name(namespace)}", "insecure": True,
        "secretRef": {"name": "absent"},
    })  # fmt: skip

    await failing(
        kube,
        namespace,
        "AuthenticationFailed",
        fragment=(
            f"failed to get credential: Secret '{namespace}/absent' (spec.secretRef) not found"
        ),
    )


async def test_tls_is_verified_with_the_ca_from_cert_secret_ref(
    kube: KubeClient, namespace: str, tls_registry: Registry, oci_controller: Manager
) -> None:
    assert tls_registry.ca_pem is not None
    repository = repo_name(namespace)
    digest = tls_registry.push_artifact(repository, "v1", {"a.yaml": "tls\n"})
    await kube.create(resources.SECRET, {
        "metadata": {"name": "registry-ca", "namespace": namespace},
        "data": {"ca.crt": b64(tls_registry.ca_pem)},
    })  # fmt: skip
    url = f"oci://{tls_registry.host}/{repository}"
    await create_oci_repository(kube, namespace, "trusted", {
        "url": url, "ref": {"tag": "v1"}, "certSecretRef": {"name": "registry-ca"},
    })  # fmt: skip
    await create_oci_repository(kube, namespace, "app", {"url": url, "ref": {"tag": "v1"}})

    obj = await wait_ready(kube, namespace, "trusted", revision=f"v1@{digest}")
    assert archive_files(await download(obj["status"]["artifact"])) == {"a.yaml": "tls\n"}
    await failing(kube, namespace, "OCIArtifactPullFailed", fragment="CERTIFICATE_VERIFY_FAILED")


# -- idle cost and new revisions -------------------------------------------------------------------
async def test_an_unchanged_digest_costs_no_writes_and_no_download(
    kube: KubeClient,
    namespace: str,
    registry: Registry,
    proxy: RecordingProxy,
    oci_controller: Manager,
) -> None:
    repository = repo_name(namespace)
    digest = registry.push_artifact(repository, "v1", {"a.yaml": "a\n"})
    await create_oci_repository(kube, namespace, "app", {
        "url": f"oci://127.0.0.1:{proxy.port}/{repository}", "insecure": True,
        "ref": {"tag": "v1"}, "interval": "1s",
    })  # fmt: skip
    await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")
    assert len(proxy.blob_downloads()) == 1  # the first reconcile did download the layer

    async def reconciled(times: int) -> float:
        start = reconcile_count("OCIRepository", namespace, "app")
        done = lambda: reconcile_count("OCIRepository", namespace, "app") >= start + times  # noqa: E731

        async def probe() -> bool:
            return done()

        await eventually(probe, timeout=15, what=f"{times} more reconciles")
        return reconcile_count("OCIRepository", namespace, "app")

    await reconciled(1)  # let the first reconcile's report (status, event) land
    writes = oci_controller.client.total_writes(namespace=namespace)
    proxy.calls.clear()

    await reconciled(3)

    assert oci_controller.client.total_writes(namespace=namespace) == writes
    assert proxy.blob_downloads() == []
    heads = [path for method, path in proxy.calls if method == "HEAD"]
    assert len(heads) >= 3 and all(p == f"/v2/{repository}/manifests/v1" for p in heads)


async def test_a_new_push_to_the_same_tag_becomes_a_new_artifact_on_request(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    before = await established(kube, namespace, registry)
    repository = repo_name(namespace)
    digest = registry.push_artifact(repository, "v1", {"app.yaml": "kind: Secret\n"})

    await request_reconcile(kube, namespace, "app", "push-2")
    obj = await wait_ready(kube, namespace, "app", revision=f"v1@{digest}")

    artifact = obj["status"]["artifact"]
    assert artifact["digest"] != before["status"]["artifact"]["digest"]
    assert archive_files(await download(artifact)) == {"app.yaml": "kind: Secret\n"}
    assert obj["status"]["lastHandledReconcileAt"] == "push-2"
    new = [e for e in await events_for(kube, namespace, "app") if e["reason"] == "NewArtifact"]
    assert any(f"'v1@{digest}'" in e["message"] for e in new)


# -- bad input -------------------------------------------------------------------------------------
async def test_an_unreachable_registry_keeps_the_previous_artifact_served(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    before = await established(kube, namespace, registry)

    await patch_spec(kube, namespace, "app", {"url": f"oci://127.0.0.1:{free_port()}/app"})

    obj = await failing(kube, namespace, "OCIArtifactPullFailed", fragment="cannot connect to")
    await keeps_serving(obj, before)


async def test_an_unknown_tag_keeps_the_previous_artifact_served(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    before = await established(kube, namespace, registry)

    await patch_spec(kube, namespace, "app", {"ref": {"tag": "nope"}})

    obj = await failing(
        kube,
        namespace,
        "OCIArtifactPullFailed",
        fragment=f"failed to determine artifact digest: tag 'nope' not found in "
        f"'{registry.host}/{repo_name(namespace)}' (MANIFEST_UNKNOWN",
    )
    await keeps_serving(obj, before)


async def test_no_tag_matching_the_range_keeps_the_previous_artifact_served(
    kube: KubeClient, namespace: str, registry: Registry, oci_controller: Manager
) -> None:
    before = await established(kube, namespace, registry)

    await patch_spec(kube, namespace, "app", {"ref": {"semver": ">=9.0.0"}})

    url = f"oci://{registry.host}/{repo_name(namespace)}"
    obj = await failing(
        kube,
        namespace,
        "ReadOperationFailed",
        fragment=f"failed to determine the artifact tag for '{url}': no match found for "
        "semver: >=9.0.0",
    )
    await keeps_serving(obj, before)


async def test_a_wrong_password_keeps_the_previous_artifact_and_never_shows_a_password(
    kube: KubeClient, namespace: str, private_registry: Registry, oci_controller: Manager
) -> None:
    await create_pull_secret(kube, namespace, "creds", private_registry.host)
    before = await established(kube, namespace, private_registry, {"secretRef": {"name": "creds"}})

    await kube.delete(resources.SECRET, "creds", namespace=namespace)
    await create_pull_secret(
        kube, namespace, "creds", private_registry.host, password=WRONG_PASSWORD
    )
    await request_reconcile(kube, namespace, "app", "rotate")

    obj = await failing(
        kube,
        namespace,
        "AuthenticationFailed",
        fragment=f"the registry '{private_registry.host}' refused the credentials",
    )
    await keeps_serving(obj, before)
    seen = json.dumps(obj) + json.dumps(await events_for(kube, namespace, "app"))
    assert WRONG_PASSWORD not in seen and PASSWORD not in seen


async def test_a_registry_that_never_answers_fails_after_spec_timeout(
    kube: KubeClient,
    namespace: str,
    registry: Registry,
    silent_port: int,
    oci_controller: Manager,
) -> None:
    before = await established(kube, namespace, registry)

    await patch_spec(kube, namespace, "app", {
        "url": f"oci://127.0.0.1:{silent_port}/app", "timeout": "1s",
    })  # fmt: skip

    obj = await failing(
        kube, namespace, "OCIArtifactPullFailed", fragment="timed out after 1s (spec.timeout)"
    )
    await keeps_serving(obj, before)


@pytest.mark.parametrize(
    ("spec", "reason", "fragment"),
    [
        ({"provider": "aws"}, "InvalidConfig", "spec.provider 'aws' is not supported by Tide"),
        ({"verify": {"provider": "cosign"}}, "InvalidConfig", "spec.verify (provider 'cosign')"),
        ({"url": "oci://127.0.0.1:5000/app:v1"}, "URLInvalid", "remove ':v1'"),
    ],
)
async def test_settings_that_cannot_work_stall_without_retrying(
    kube: KubeClient,
    namespace: str,
    oci_controller: Manager,
    spec: dict[str, Any],
    reason: str,
    fragment: str,
) -> None:
    await create_oci_repository(kube, namespace, "app", {
        "url": "oci://127.0.0.1:5000/app", **spec,
    })  # fmt: skip

    obj = await wait_ready(kube, namespace, "app", status="False", reason=reason)

    assert fragment in condition(obj, "Ready")["message"]
    assert (condition(obj, "Stalled") or {}).get("status") == "True"
    assert condition(obj, "Reconciling") is None
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert_kstatus(obj)

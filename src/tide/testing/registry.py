"""An OCI registry on loopback: Debian's ``docker-registry`` (CNCF distribution v2.8).

Flux's OCIRepository and OCI HelmRepository talk to registries over the distribution API, with
basic auth from a ``dockerconfigjson`` Secret and TLS with a private CA. ``Registry`` runs the
real distribution server for that, configured from scratch (filesystem storage in a temp folder,
no debug listener, deletes enabled), and pushes content to it through the same HTTP API that
Flux's and Helm's clients use:

* :meth:`Registry.push_artifact` builds what ``flux push artifact`` builds — one deterministic
  ``tar+gzip`` layer and go-containerregistry's config for an empty image — and uploads it with
  plain ``httpx`` calls (blob upload POST then PUT with the digest, manifest PUT), because the
  Helm SDK pushes only charts.
* :meth:`Registry.push_chart` uses the Helm SDK's own ``push``, so charts land exactly as
  ``helm push`` lays them out.
* :meth:`Registry.tag_many` and :meth:`Registry.untag` add and remove tags of a pushed
  manifest in the registry's own storage, for tests of image scanning with many tags.

The binary comes from apt (``hack/install-test-deps.sh`` installs package ``docker-registry``).

Example::

    with Registry(username="u", password="p") as registry:
        digest = registry.push_artifact("manifests/app", "v1", {"cm.yaml": "kind: ConfigMap"})
        # OCIRepository url: oci://{registry.host}/manifests/app, secretRef from
        # registry.dockerconfigjson()
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import ssl
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path

import bcrypt
import httpx
import yaml

from tide.testing._process import ServerProcess, free_port
from tide.testing._server import LocalServer

__all__ = ["Registry", "RegistryError"]

_BINARY = Path("/usr/bin/docker-registry")
"""Where Debian's ``docker-registry`` package installs the distribution server."""

_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_FLUX_CONTENT = "application/vnd.cncf.flux.content.v1.tar+gzip"
_FLUX_CONFIG = "application/vnd.cncf.flux.config.v1+json"
_CREATED_ANNOTATION = "org.opencontainers.image.created"

_START_TIMEOUT = 30.0
_START_ATTEMPTS = 3
_BCRYPT_ROUNDS = 5
"""The registry checks the htpasswd hash on every request; bcrypt's minimum-ish cost keeps a
test's hundreds of requests fast. The password is a test fixture, not a secret worth 2^12."""


class RegistryError(RuntimeError):
    """The registry failed to start or refused a request; the message says which and why."""


class Registry(LocalServer):
    """A throwaway OCI registry served on ``127.0.0.1``.

    Args:
        username: require HTTP basic auth (htpasswd, bcrypt) with this user (default: anonymous
            access).
        password: the password for ``username``.
        tls: serve HTTPS with a certificate from a fresh CA, published as :attr:`ca_pem`
            (default: plain HTTP).
    """

    _error = RegistryError
    _what = "registry"
    _prefix = "tide-registry-"

    _port = 0
    """The bound port while running; 0 when stopped."""

    # -- lifecycle (start, stop and the context manager are LocalServer's) -------------------
    def _preflight(self) -> None:
        if not _BINARY.exists():
            raise RegistryError(
                f"{_BINARY} not found: install Debian's docker-registry package "
                "(hack/install-test-deps.sh does)"
            )

    def _launch(self, root: Path) -> None:
        """Start and return once ``GET /v2/`` answers (200, or 401 with auth)."""
        self._write_credentials()
        for attempt in range(1, _START_ATTEMPTS + 1):
            # free_port() can race with another process taking the port before the registry
            # binds it; distribution then exits at once, and another port is tried.
            self._port = free_port()
            (root / "config.yml").write_text(self._config())
            if self._spawn(last_attempt=attempt == _START_ATTEMPTS):
                break

    def _stopped(self) -> None:
        self._port = 0

    # -- addresses ----------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """Return ``127.0.0.1:PORT``, the registry part of ``oci://`` references."""
        if not self._port:
            raise RegistryError("registry not started")
        return f"127.0.0.1:{self._port}"

    @property
    def url(self) -> str:
        """Return ``http(s)://127.0.0.1:PORT``, the base of the distribution API."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    # -- pushing ----------------------------------------------------------------------------
    def push_artifact(
        self,
        repository: str,
        tag: str,
        files: dict[str, str | bytes],
        *,
        media_type: str = _FLUX_CONTENT,
        artifact_type: str = _FLUX_CONFIG,
        annotations: dict[str, str] | None = None,
    ) -> str:
        """Push ``files`` as a Flux-style OCI artifact; return the manifest digest.

        The layer is a ``tar+gzip`` of ``files`` with sorted entries, mtime 0 and root
        ownership, so the same files always give the same layer digest. As with ``flux push
        artifact``, the manifest is an OCI image manifest whose config blob is
        go-containerregistry's config of an empty image plus that layer, annotated with
        ``org.opencontainers.image.created``.

        Args:
            repository: repository path, e.g. ``"manifests/app"``.
            tag: tag to push.
            files: path inside the archive to content (text is encoded as UTF-8).
            media_type: the layer's media type (default Flux's content type).
            artifact_type: the config blob's media type, which OCI 1.1 reads as the artifact
                type when the manifest has no ``artifactType`` (default Flux's config type).
            annotations: manifest annotations, merged over the ``created`` one.
        """
        layer = _tar_gz(files)
        diff_id = "sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()
        config = json.dumps(
            {
                "architecture": "",
                "created": "0001-01-01T00:00:00Z",
                "history": [{"created": "0001-01-01T00:00:00Z"}],
                "os": "",
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "config": {},
            },
            separators=(",", ":"),
        ).encode()
        created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        merged = {_CREATED_ANNOTATION: created, **(annotations or {})}
        with self._http() as http:
            manifest = {
                "schemaVersion": 2,
                "mediaType": _OCI_MANIFEST,
                "config": _upload_blob(http, repository, config, artifact_type),
                "layers": [_upload_blob(http, repository, layer, media_type)],
                "annotations": dict(sorted(merged.items())),
            }
            return _put_manifest(http, repository, tag, manifest)

    def push_chart(self, repository: str, chart_tgz: Path, version: str) -> str:
        """Push a packaged chart with the Helm SDK, as ``helm push``; return the manifest digest.

        Helm names the OCI repository after the chart and tags it with the chart version, so
        ``repository`` must end in the chart's name (``"charts/demo"`` for chart ``demo``) and
        ``version`` must be the archive's version; anything else raises ``ValueError`` rather
        than push somewhere the caller did not ask for.

        Over TLS the SDK is told to skip certificate checks, as it takes no CA bundle; it is
        pushing to this registry over loopback, whose certificate this object just minted.
        """
        import helm_python as helm

        with helm.Chart.load(chart_tgz) as chart:
            name, chart_version = chart.name, chart.version
        parent, _, last = repository.rpartition("/")
        if last != name:
            raise ValueError(f"chart {name!r} is pushed to a repository ending in {name!r}")
        if version != chart_version:
            raise ValueError(f"{chart_tgz} holds version {chart_version}, not {version}")
        assert self._root is not None
        remote = f"oci://{self.host}/{parent}" if parent else f"oci://{self.host}"
        plain_http = not self.tls
        with helm.RegistryClient(
            plain_http=plain_http, credentials_file=self._root / "helm-registry.json"
        ) as client:
            if self.username is not None and self.password is not None:
                client.login(
                    self.host,
                    self.username,
                    self.password,
                    insecure=self.tls,
                    plain_http=plain_http,
                )
            client.push(chart_tgz, remote, plain_http=plain_http, insecure_skip_tls_verify=self.tls)
        # Helm tags "+" build metadata as "_", since tags may not contain "+".
        tag = version.replace("+", "_")
        with self._http() as http:
            answer = http.head(
                f"/v2/{repository}/manifests/{tag}", headers={"Accept": _OCI_MANIFEST}
            )
            _expect(answer, 200, f"resolve {repository}:{tag}")
            return answer.headers["Docker-Content-Digest"]

    def tag_many(self, repository: str, digest: str, tags: Iterable[str]) -> None:
        """Point each of ``tags`` at the manifest ``digest`` already in ``repository``.

        Cheap enough for ten thousand tags: the links are written straight into the
        registry's filesystem storage, laid out as distribution lays out a tag pushed with
        ``PUT /v2/<name>/manifests/<tag>`` (``_manifests/tags/<tag>/current/link``, which
        listing and resolving a tag read; the tag's history index is left out), instead of one
        HTTP request per tag. The registry reads tags from that
        layout on every call (no cache is configured), so the tags are listed at once.
        """
        base = self._repository_root(repository) / "_manifests" / "tags"
        content = digest.encode()
        for tag in tags:
            current = base / tag / "current"
            os.makedirs(current, exist_ok=True)
            descriptor = os.open(current / "link", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(descriptor, content)
            finally:
                os.close(descriptor)

    def untag(self, repository: str, *tags: str) -> None:
        """Remove ``tags`` from ``repository``, leaving the manifests they pointed at.

        The distribution server has no API to delete one tag (deleting a manifest deletes
        every tag of it), so the tag's folder is removed from its storage, as its garbage
        collector would after an untag.
        """
        base = self._repository_root(repository) / "_manifests" / "tags"
        for tag in tags:
            shutil.rmtree(base / tag)

    # -- reading ----------------------------------------------------------------------------
    def tags(self, repository: str) -> list[str]:
        """Return the repository's tags as the registry lists them; ``[]`` if it has none."""
        with self._http() as http:
            answer = http.get(f"/v2/{repository}/tags/list")
        if answer.status_code == 404:
            return []
        _expect(answer, 200, f"list tags of {repository}")
        return list(answer.json().get("tags") or [])

    def dockerconfigjson(self) -> str:
        """Return a ``.dockerconfigjson`` for this registry, as a ``kubernetes.io/dockerconfigjson``
        Secret holds it for Flux's ``secretRef``.

        Without credentials the ``auths`` map is empty: the registry needs none.
        """
        auths: dict[str, dict[str, str]] = {}
        if self.username is not None and self.password is not None:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            auths[self.host] = {
                "username": self.username,
                "password": self.password,
                "auth": token,
            }
        return json.dumps({"auths": auths})

    # -- internals --------------------------------------------------------------------------
    def _repository_root(self, repository: str) -> Path:
        if self._root is None:
            raise RegistryError("registry not started")
        root = self._root / "data" / "docker" / "registry" / "v2" / "repositories" / repository
        if not root.is_dir():
            raise RegistryError(f"repository {repository} has nothing pushed yet")
        return root

    def _http(self) -> httpx.Client:
        verify: ssl.SSLContext | bool = True
        if self.ca_pem is not None:
            verify = ssl.create_default_context(cadata=self.ca_pem.decode())
        auth = None
        if self.username is not None and self.password is not None:
            auth = httpx.BasicAuth(self.username, self.password)
        return httpx.Client(base_url=self.url, auth=auth, verify=verify, timeout=30.0)

    def _write_credentials(self) -> None:
        assert self._root is not None
        if self.username is not None and self.password is not None:
            hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=_BCRYPT_ROUNDS))
            (self._root / "htpasswd").write_text(f"{self.username}:{hashed.decode()}\n")
        if self.tls:
            self._write_tls(self._root, "tide-registry-ca")

    def _config(self) -> str:
        assert self._root is not None
        http: dict[str, object] = {
            "addr": self.host,
            # A fixed secret silences distribution's warning about a generated one.
            "secret": secrets.token_hex(16),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        }
        if self.tls:
            http["tls"] = {
                "certificate": str(self._root / "tls.crt"),
                "key": str(self._root / "tls.key"),
            }
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self._root / "data")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
        }
        if self.username is not None:
            config["auth"] = {
                "htpasswd": {"realm": "tide-registry", "path": str(self._root / "htpasswd")}
            }
        return yaml.safe_dump(config, sort_keys=False)

    def _spawn(self, *, last_attempt: bool) -> bool:
        """Start the binary; return False if it lost its port to another process."""
        assert self._root is not None
        log = self._root / "registry.log"
        command = [str(_BINARY), "serve", str(self._root / "config.yml")]
        self._process = ServerProcess.start("docker-registry", command, log=log)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if not self._process.alive():
                tail = self._process.log_tail()
                self._process = None
                if "address already in use" in tail and not last_attempt:
                    return False
                raise RegistryError(f"docker-registry exited during start:\n{tail}")
            if self._answers():
                return True
            time.sleep(0.05)
        raise RegistryError(
            f"docker-registry not ready within {_START_TIMEOUT:.0f}s:\n{self._process.log_tail()}"
        )

    def _answers(self) -> bool:
        try:
            with self._http() as http:
                return http.get("/v2/", auth=None, timeout=1.0).status_code in (200, 401)
        except httpx.HTTPError:
            return False


def _tar_gz(files: dict[str, str | bytes]) -> bytes:
    """Return a reproducible ``tar+gzip`` of ``files``: sorted, mtime 0, owned by root."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            content = files[name]
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _upload_blob(
    http: httpx.Client, repository: str, data: bytes, media_type: str
) -> dict[str, object]:
    """Upload one blob (skipped if the registry has it); return its descriptor."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    descriptor: dict[str, object] = {"mediaType": media_type, "size": len(data), "digest": digest}
    if http.head(f"/v2/{repository}/blobs/{digest}").status_code == 200:
        return descriptor
    started = http.post(f"/v2/{repository}/blobs/uploads/")
    _expect(started, 202, f"start a blob upload to {repository}")
    # The upload URL carries the registry's state in its query; add to it, never replace it.
    location = httpx.URL(started.headers["Location"]).copy_add_param("digest", digest)
    finished = http.put(
        location,
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    _expect(finished, 201, f"upload blob {digest} to {repository}")
    return descriptor


def _put_manifest(
    http: httpx.Client, repository: str, tag: str, manifest: dict[str, object]
) -> str:
    """Put a manifest under ``tag``; return its digest, checked against the registry's."""
    body = json.dumps(manifest, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    answer = http.put(
        f"/v2/{repository}/manifests/{tag}",
        content=body,
        headers={"Content-Type": str(manifest["mediaType"])},
    )
    _expect(answer, 201, f"put manifest {repository}:{tag}")
    stored = answer.headers.get("Docker-Content-Digest", digest)
    if stored != digest:
        raise RegistryError(f"registry stored {repository}:{tag} as {stored}, sent {digest}")
    return digest


def _expect(answer: httpx.Response, status: int, what: str) -> None:
    if answer.status_code != status:
        raise RegistryError(f"{what}: HTTP {answer.status_code}: {answer.text[:500]}")

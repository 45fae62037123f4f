"""The one Kubernetes client Tide uses: plain dicts in and out, our errors, counted writes.

It wraps lightkube's async client so the rest of Tide deals in JSON-shaped dicts (what manifests
and status already are) and in :mod:`tide.kube.errors`. Every write is counted per verb, which is
how tests and benchmarks prove that a reconcile with nothing to do writes nothing.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Unpack

import httpx2
import msgspec
from lightkube import AsyncClient, KubeConfig, operators
from lightkube.config.kubeconfig import SingleConfig
from lightkube.core import resource as lightkube_resource
from lightkube.core.exceptions import ConfigError, LoadResourceError
from lightkube.core.resource_registry import resource_registry
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.types import PatchType

from tide.api.selectors import Operator, Requirement
from tide.kube import metadata
from tide.kube.errors import KubeError, KubeForbidden, KubeNotFound, translate
from tide.kube.metrics import DRY_RUNS, REQUESTS
from tide.kube.resources import ResourceType
from tide.kube.scope import ListScope, WatchScope

__all__ = ["KubeClient", "WatchEvent", "kubeconfig_contexts", "service_account_user"]

WatchEvent = tuple[str, dict[str, Any]]
"""A watch event: ("ADDED" | "MODIFIED" | "DELETED", object)."""


_SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_REQUEST_TIMEOUT = 30.0
"""Seconds for any single non-watch request; DESIGN: every network call has a timeout."""


def service_account_user(namespace: str, name: str) -> str:
    """The user name the API server gives ServiceAccount ``namespace/name``."""
    return f"system:serviceaccount:{namespace}:{name}"


def _resource_class(rt: ResourceType) -> type[lightkube_resource.Resource]:
    registered = resource_registry.get(rt.api_version, rt.kind)
    if registered is not None:
        return registered
    if "." not in rt.group or rt.group.endswith(".k8s.io"):
        # Built-in kinds ship as typed classes; a generic class for one would clash with it.
        with contextlib.suppress(LoadResourceError, ImportError):
            return resource_registry.load(rt.api_version, rt.kind)
    factory = create_namespaced_resource if rt.namespaced else create_global_resource
    return factory(rt.group, rt.version, rt.kind, rt.plural)


def _load_kubeconfig(path: Path | None) -> KubeConfig:
    if path is not None:
        return KubeConfig.from_file(path)
    for entry in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if entry and Path(entry).expanduser().is_file():
            return KubeConfig.from_file(Path(entry).expanduser())
    if os.environ.get("KUBERNETES_SERVICE_HOST") and Path(_SERVICE_ACCOUNT_TOKEN).is_file():
        return KubeConfig.from_service_account()
    default = Path.home() / ".kube" / "config"
    if default.is_file():
        return KubeConfig.from_file(default)
    raise KubeError("no kubeconfig found: pass --kubeconfig or set KUBECONFIG")


def kubeconfig_contexts(path: str | Path | None = None) -> tuple[list[str], str | None]:
    """Return the context names of the kubeconfig :meth:`KubeClient.from_kubeconfig` reads
    (found the same way), in the file's order, and its current context.

    For a command that serves several clusters at once (``tide dashboard``); in a cluster the
    one context is the Pod's ServiceAccount.

    Raises:
        KubeError: no kubeconfig is found, or it cannot be read.
    """
    try:
        config = _load_kubeconfig(Path(path) if path else None)
    except ConfigError as error:
        raise KubeError(f"invalid kubeconfig: {error}") from error
    return list(config.contexts), config.current_context


def _namespace_of(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict) and not hasattr(obj, "to_dict"):
        return obj
    return obj.to_dict()


class KubeClient:
    """Async access to one API server as one identity.

    Args:
        client: the underlying lightkube client.
        field_manager: name recorded in ``managedFields`` for server-side applies.
    """

    def __init__(
        self,
        client: AsyncClient,
        *,
        field_manager: str,
        config: SingleConfig | None = None,
    ) -> None:
        self._client = client
        self._config = config
        self._impersonated: dict[str, KubeClient] = {}
        self.field_manager = field_manager
        self.writes: collections.Counter[tuple[str, str, str]] = collections.Counter()
        """Writes sent, by (verb, kind, namespace); verbs: create, apply, apply-status, patch,
        replace, delete."""
        self.requests: collections.Counter[tuple[str, str, str]] = collections.Counter()
        """Every request answered, by (verb, resource, namespace): verbs get, list, watch,
        dry-run, post, put, patch, delete; resource is the plural (``deployments``); how
        tests and benchmarks tell an idle reconcile sent no per-object request."""
        self._http().event_hooks["response"].append(self._count_request)

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | Path | None = None,
        *,
        context: str | None = None,
        field_manager: str = "tide",
    ) -> KubeClient:
        """Connect as a kubeconfig says.

        The first that exists wins: ``path``; the first file in ``$KUBECONFIG``; the Pod's
        ServiceAccount when running in a cluster; ``~/.kube/config``. (An explicit
        ``$KUBECONFIG`` beats in-cluster credentials, as with kubectl.)

        Raises:
            KubeError: none of them exists.
        """
        try:
            config = _load_kubeconfig(Path(path) if path else None)
        except ConfigError as error:  # a missing or unreadable file: the caller's one line
            raise KubeError(f"invalid kubeconfig: {error}") from error
        return cls.from_config(config, context=context, field_manager=field_manager)

    @classmethod
    def from_config(
        cls,
        config: KubeConfig | Mapping[str, Any],
        *,
        context: str | None = None,
        field_manager: str = "tide",
    ) -> KubeClient:
        """Connect as a loaded kubeconfig (or its parsed YAML, e.g. from a Secret) says.

        Raises:
            KubeError: the kubeconfig is malformed or has no such context.
        """
        try:
            if not isinstance(config, KubeConfig):
                config = KubeConfig.from_dict(dict(config))
            single = config.get(context)
        except Exception as error:
            raise KubeError(f"invalid kubeconfig: {error}") from error
        timeout = httpx2.Timeout(_REQUEST_TIMEOUT)
        return cls(
            AsyncClient(single, timeout=timeout, field_manager=field_manager),
            field_manager=field_manager,
            config=single,
        )

    def impersonating(self, user: str) -> KubeClient:
        """Return a client to the same API server that acts as ``user`` (``Impersonate-User``).

        The API server authorizes every request as that user, which is how a tenant's
        Kustomization is held to its ServiceAccount's rights. For a ServiceAccount user
        (``system:serviceaccount:<ns>:<name>``) the server adds its groups itself. One client
        per user is kept (and closed with this one); it shares this client's write counter.
        """
        if self._config is None:
            raise KubeError("this client was not built from a kubeconfig; cannot impersonate")
        sibling = self._impersonated.get(user)
        if sibling is None:
            timeout = httpx2.Timeout(_REQUEST_TIMEOUT)
            lightkube = AsyncClient(self._config, timeout=timeout, field_manager=self.field_manager)
            sibling = KubeClient(lightkube, field_manager=self.field_manager)
            sibling._http().headers["Impersonate-User"] = user
            sibling.writes = self.writes
            sibling.requests = self.requests
            self._impersonated[user] = sibling
        return sibling

    def kubeconfig(self) -> dict[str, Any]:
        """Return a kubeconfig (parsed YAML) for this client's API server and credentials.

        For tools that bring their own Kubernetes client (the Helm SDK), so they reach the
        same server as the same identity. Relative file paths are made absolute.

        Raises:
            KubeError: this client was not built from a kubeconfig.
        """
        if self._config is None:
            raise KubeError("this client was not built from a kubeconfig")
        config = self._config
        cluster = msgspec.to_builtins(config.cluster)
        user = msgspec.to_builtins(config.user) if config.user is not None else {}
        for section, keys in (
            (cluster, ("certificate-authority",)),
            (user, ("client-certificate", "client-key", "tokenFile")),
        ):
            for key in keys:
                if section.get(key):
                    section[key] = str(config.abs_file(section[key]))
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "tide", "cluster": cluster}],
            "users": [{"name": "tide", "user": user}],
            "contexts": [{"name": "tide", "context": {"cluster": "tide", "user": "tide"}}],
            "current-context": "tide",
        }

    async def close(self) -> None:
        """Close pooled connections (also those of impersonating clients made from this one)."""
        for sibling in self._impersonated.values():
            await sibling.close()
        self._impersonated.clear()
        with contextlib.suppress(Exception):
            await self._client.close()

    def _http(self) -> Any:
        """The httpx client under lightkube (host, TLS, credentials and timeout set up).

        lightkube offers neither raw requests nor per-client headers; this is Tide's one reach
        into its internals, for discovery documents and impersonation headers.
        """
        return self._client._client._client

    # -- reads ----------------------------------------------------------------------------------
    async def get(self, rt: ResourceType, name: str, *, namespace: str | None = None) -> dict:
        """Return one object; raise KubeNotFound when absent."""
        try:
            found = await self._client.get(_resource_class(rt), name, namespace=namespace)
        except Exception as error:
            raise translate(error) from error
        return _as_dict(found)

    async def get_or_none(
        self, rt: ResourceType, name: str, *, namespace: str | None = None
    ) -> dict | None:
        """Return one object, or None when it does not exist."""
        try:
            return await self.get(rt, name, namespace=namespace)
        except KubeNotFound:
            return None

    async def list(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        selector: tuple[Requirement, ...] = (),
        fields: Mapping[str, str] | None = None,
    ) -> tuple[list[dict], str]:
        """Return every matching object and the list's resourceVersion (to start a watch from).

        ``labels`` and ``selector`` (parsed by :func:`tide.api.selectors.parse_selector`) both
        narrow the list; ``fields`` is a field selector (``{"involvedObject.name": "apps"}`` for
        Events). The API server applies all three, so only the matches cross the wire.
        """
        kwargs: dict[str, Any] = {"labels": _label_pairs(labels, selector)}
        if fields:
            kwargs["fields"] = dict(fields)
        if rt.namespaced:
            kwargs["namespace"] = namespace or "*"
        try:
            listing = self._client.list(_resource_class(rt), **kwargs)
            items = [_as_dict(item) async for item in listing]
            return items, listing.resourceVersion
        except Exception as error:
            raise translate(error) from error

    async def watch(
        self,
        rt: ResourceType,
        *,
        resource_version: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        selector: tuple[Requirement, ...] = (),
    ) -> AsyncIterator[WatchEvent]:
        """Yield changes after ``resource_version``; raise KubeGone when it is too old."""
        kwargs: dict[str, Any] = {
            "labels": _label_pairs(labels, selector),
            "resource_version": resource_version,
        }
        if rt.namespaced:
            kwargs["namespace"] = namespace or "*"
        try:
            async for kind, obj in self._client.watch(_resource_class(rt), **kwargs):
                yield kind, _as_dict(obj)
        except Exception as error:
            raise translate(error) from error

    async def list_metadata(
        self, rt: ResourceType, **scope: Unpack[ListScope]
    ) -> tuple[list[dict], str]:
        """As :meth:`list`, but each object is ``{"metadata": …}`` only (PartialObjectMetadata)."""
        return await metadata.list_metadata(self, rt, **scope)

    def watch_metadata(
        self, rt: ResourceType, **scope: Unpack[WatchScope]
    ) -> AsyncIterator[WatchEvent]:
        """As :meth:`watch`, but each object is ``{"metadata": …}`` only."""
        return metadata.watch_metadata(self, rt, **scope)

    async def get_json(self, path: str) -> dict[str, Any]:
        """GET a raw API path (discovery documents have no resource class) and decode it."""
        http = self._http()
        try:
            response = await http.get(path)
            response.raise_for_status()
        except Exception as error:
            raise _translate_http(error) from error
        return response.json()

    async def pod_log(
        self,
        name: str,
        *,
        namespace: str,
        container: str | None = None,
        since_seconds: int | None = None,
        tail_lines: int | None = None,
        follow: bool = False,
    ) -> AsyncIterator[str]:
        """Yield the lines of a container's log (``pods/{name}/log``), as the kubelet serves it.

        With ``follow`` the lines keep coming until the container stops or the caller stops
        iterating; no request timeout applies then. lightkube offers no streaming of a
        subresource's text, so this goes through the same HTTP client as :meth:`get_json`.

        Raises:
            KubeNotFound: no such pod.
            KubeError: the API server (or the node behind it) refused, with its message.
        """
        params: dict[str, Any] = {"follow": "true" if follow else "false"}
        optional = {"container": container, "sinceSeconds": since_seconds,
                    "tailLines": tail_lines}  # fmt: skip
        params.update({key: value for key, value in optional.items() if value is not None})
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
        http = self._http()
        try:
            timeout = None if follow else _REQUEST_TIMEOUT
            async with http.stream("GET", path, params=params, timeout=timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _status_error(response)
                async for line in response.aiter_lines():
                    yield line
        except KubeError:
            raise
        except Exception as error:
            raise _translate_http(error) from error

    # -- writes ---------------------------------------------------------------------------------
    async def create_token(
        self, name: str, *, namespace: str, audiences: list[str], expiration: int = 3600
    ) -> str:
        """Mint a token for ServiceAccount ``namespace/name`` (TokenRequest); return it.

        For workload identity: a cluster trusting this one's issuer accepts the token for
        ``audiences``. The token is a credential: never log it.
        """
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": audiences, "expirationSeconds": expiration},
        }
        try:
            response = await self._http().post(path, json=body)
        except Exception as error:
            raise translate(error) from error
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message") or response.text[:200])
            except ValueError:
                message = response.text[:200]
            code = response.status_code
            kind = {403: KubeForbidden, 404: KubeNotFound}.get(code, KubeError)
            raise kind(message, status=code)
        self.writes[("create", "TokenRequest", namespace)] += 1
        return str(response.json()["status"]["token"])

    async def create(self, rt: ResourceType, obj: Mapping[str, Any]) -> dict:
        """Create ``obj``; raise KubeConflict when it exists."""
        return await self._write("create", self._client.create, rt, obj)

    async def replace(self, rt: ResourceType, obj: Mapping[str, Any]) -> dict:
        """Replace ``obj`` (optimistic: its resourceVersion must still be current)."""
        return await self._write("replace", self._client.replace, rt, obj)

    async def apply(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        *,
        force: bool = True,
        dry_run: bool = False,
    ) -> dict:
        """Server-side apply ``obj`` as this client's field manager."""
        resource = _resource_class(rt).from_dict(self._with_type(rt, obj))
        verb = "apply-dry-run" if dry_run else "apply"
        try:
            applied = await self._client.apply(
                resource, field_manager=self.field_manager, force=force, dry_run=dry_run
            )
        except Exception as error:
            raise translate(error) from error
        if not dry_run:
            self.writes[(verb, rt.kind, _namespace_of(obj))] += 1
        return _as_dict(applied)

    async def apply_status(
        self, rt: ResourceType, obj: Mapping[str, Any], *, field_manager: str | None = None
    ) -> dict:
        """Server-side apply ``obj['status']`` through the status subresource.

        Args:
            rt: the object's resource type.
            obj: the object; only its name, namespace and ``status`` are sent.
            field_manager: who owns the status fields (default: this client's field manager);
                each controller passes its own name, as Flux's controllers do.
        """
        metadata = obj["metadata"]
        body = self._with_type(
            rt,
            {
                "metadata": {"name": metadata["name"], "namespace": metadata.get("namespace")},
                "status": obj.get("status") or {},
            },
        )
        status_class = _resource_class(rt).Status  # type: ignore[attr-defined]
        try:
            applied = await self._client.apply(
                status_class.from_dict(body),
                name=metadata["name"],
                namespace=metadata.get("namespace"),
                field_manager=field_manager or self.field_manager,
                force=True,
            )
        except Exception as error:
            raise translate(error) from error
        self.writes[("apply-status", rt.kind, metadata.get("namespace") or "")] += 1
        return _as_dict(applied)

    async def patch_merge(
        self,
        rt: ResourceType,
        name: str,
        patch: Mapping[str, Any],
        *,
        namespace: str | None = None,
    ) -> dict:
        """Apply a JSON merge patch (used for metadata such as finalizers and annotations)."""
        try:
            patched = await self._client.patch(
                _resource_class(rt),
                name,
                dict(patch),
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )
        except Exception as error:
            raise translate(error) from error
        self.writes[("patch", rt.kind, namespace or "")] += 1
        return _as_dict(patched)

    async def delete(self, rt: ResourceType, name: str, *, namespace: str | None = None) -> None:
        """Delete one object; absent objects are not an error."""
        try:
            await self._client.delete(_resource_class(rt), name, namespace=namespace)
        except Exception as error:
            translated = translate(error)
            if isinstance(translated, KubeNotFound):
                return
            raise translated from error
        self.writes[("delete", rt.kind, namespace or "")] += 1

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _with_type(rt: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
        return {**obj, "apiVersion": rt.api_version, "kind": rt.kind}

    async def _write(self, verb: str, send: Any, rt: ResourceType, obj: Mapping[str, Any]) -> dict:
        resource = _resource_class(rt).from_dict(self._with_type(rt, obj))
        try:
            written = await send(resource)
        except Exception as error:
            raise translate(error) from error
        self.writes[(verb, rt.kind, _namespace_of(obj))] += 1
        return _as_dict(written)

    def total_writes(
        self, *, kinds: tuple[str, ...] | None = None, namespace: str | None = None
    ) -> int:
        """Return how many writes were sent, optionally only to ``kinds`` in ``namespace``."""
        return sum(
            count
            for (_, kind, where), count in self.writes.items()
            if (kinds is None or kind in kinds) and (namespace is None or where == namespace)
        )

    async def _count_request(self, response: Any) -> None:
        """Count every reply by method and code, as client-go's ``rest_client_requests_total``,
        and in :attr:`requests`."""
        request = response.request
        url = request.url
        REQUESTS.labels(str(response.status_code), request.method, url.netloc.decode()).inc()
        dry_run = bool(url.params.get("dryRun"))
        if dry_run:
            DRY_RUNS.labels(request.method).inc()
        self.requests[_request_key(request.method, url.path, url.params, dry_run=dry_run)] += 1


def _request_key(
    method: str, path: str, params: Mapping[str, str], *, dry_run: bool
) -> tuple[str, str, str]:
    """Return (verb, resource plural, namespace) of a request to ``path``."""
    parts = [part for part in path.split("/") if part]
    # /api/v1/... or /apis/<group>/<version>/...; anything else (discovery, /version) has none.
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:] if parts[:1] == ["apis"] else []
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] if rest else ""
    verb = method.lower()
    if dry_run:
        verb = "dry-run"
    elif verb == "get":
        verb = "watch" if params.get("watch") else "list" if len(rest) == 1 else "get"
    return verb, resource, namespace


def _status_error(response: Any) -> KubeError:
    """Return the error of a failed raw request, with the API server's Status message if any."""
    try:
        message = response.json().get("message") or response.text
    except ValueError:
        message = response.text
    if response.status_code == 404:
        return KubeNotFound(message, status=404)
    return KubeError(f"HTTP {response.status_code}: {message[:300]}", status=response.status_code)


def _translate_http(error: Exception) -> KubeError:
    """Translate an httpx status error (which carries no Kubernetes Status) or a transport one."""
    response = getattr(error, "response", None)
    if response is not None:
        code = response.status_code
        if code == 404:
            return KubeNotFound(f"{response.request.url.path} not found", status=404)
        return KubeError(f"discovery failed: HTTP {code}: {response.text[:200]}", status=code)
    return translate(error)


_OPERATORS: dict[Operator, Any] = {
    Operator.EQUALS: lambda values: operators.equal(values[0]),
    Operator.NOT_EQUALS: lambda values: operators.not_equal(values[0]),
    Operator.IN: operators.in_,
    Operator.NOT_IN: operators.not_in,
    Operator.EXISTS: lambda values: operators.exists(),
    Operator.DOES_NOT_EXIST: lambda values: operators.not_exists(),
}


def _label_pairs(
    labels: Mapping[str, str] | None, selector: tuple[Requirement, ...]
) -> list[tuple[str, Any]] | None:
    """Turn labels and selector requirements into the pairs lightkube builds a selector from."""
    pairs: list[tuple[str, Any]] = list((labels or {}).items())
    pairs += [(r.key, _OPERATORS[r.operator](list(r.values))) for r in selector]
    return pairs or None

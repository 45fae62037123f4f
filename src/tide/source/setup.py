"""Wire the source controller into a manager: storage, its HTTP server, and the reconcilers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tide.api import kinds
from tide.artifacts import ArtifactServer, Storage
from tide.kube.cache import object_key
from tide.kube.resources import resource_type
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.predicates import on_artifact_change
from tide.source import helmchart, helmrepository, ocirepository
from tide.source.generator import setup as generator_setup
from tide.source.git.build import ArchiveCache
from tide.source.git.remotes import GitRemotes
from tide.source.gitrepository import GitRepositoryPipeline
from tide.source.helm.index import MAX_INDEX_SIZE

__all__ = ["COMPONENT", "GIT_REPOSITORY", "SourceOptions", "SourceRuntime", "setup"]

COMPONENT = kinds.SOURCE_CONTROLLER
"""Name in events and ``managedFields``, as Flux's controller."""
GIT_REPOSITORY = resource_type("GitRepository")


@dataclass(frozen=True)
class SourceOptions:
    """Where artifacts are kept and served.

    Attributes:
        storage_path: folder for artifacts (and, beside it, the checkout cache).
        storage_host: address the artifact server binds to.
        storage_port: its port (0 picks a free one).
        advertised_url: base URL consumers download from (default: the bound address).
        retention: artifacts kept per object (default 2).
        max_index_size: largest Helm repository index accepted, in bytes (default 50 MiB).
        no_cross_namespace_refs: refuse ArtifactGenerator sources in other namespaces
            (Flux's ``--no-cross-namespace-refs``; default False).
    """

    storage_path: Path
    storage_host: str = "0.0.0.0"
    storage_port: int = 9090
    advertised_url: str | None = None
    retention: int = 2
    max_index_size: int = MAX_INDEX_SIZE
    no_cross_namespace_refs: bool = False


@dataclass
class SourceRuntime:
    """What ``setup`` made, for tests and benchmarks to inspect."""

    storage: Storage
    server: ArtifactServer
    remotes: GitRemotes
    archives: ArchiveCache
    controller: Controller
    """The GitRepository controller."""
    controllers: dict[str, Controller] = field(default_factory=dict)
    """Every source controller, by name (gitrepository, ocirepository, …)."""


def setup(manager: Manager, options: SourceOptions) -> SourceRuntime:
    """Register the source controllers (Git, OCI, Helm, generators) and the artifact server.

    Raises:
        StorageError: the storage path cannot be created or written (read-only, full…).
    """
    root = options.storage_path
    storage = Storage(
        root / "artifacts",
        base_url=options.advertised_url or "",
        retention=options.retention,
        storage_path=root,
    )
    server = ArtifactServer(storage, host=options.storage_host, port=options.storage_port)

    async def start() -> None:
        await server.start()
        if not options.advertised_url:
            host = "127.0.0.1" if options.storage_host in ("0.0.0.0", "") else options.storage_host
            storage.base_url = f"http://{host}:{server.port}"

    manager.add_service(start, server.stop)
    with storage.writing("cannot create the work folders", any_os_error=True):
        remotes = GitRemotes(root / "work" / "git")
        archives = ArchiveCache(root / "work" / "archives")
    cache = manager.cache_for(GIT_REPOSITORY)
    pipeline = GitRepositoryPipeline(
        client=manager.client, storage=storage, remotes=remotes, archives=archives, cache=cache
    )
    controller = manager.add_object_controller(GIT_REPOSITORY, pipeline)
    # Included repositories may sit in another shard; the includers woken are this shard's.
    cache.add_handler(
        on_artifact_change(manager.shard_cache(GIT_REPOSITORY), controller, _includes)
    )
    controllers = {
        "gitrepository": controller,
        "ocirepository": ocirepository.register(manager, storage, root / "work"),
        "helmrepository": helmrepository.register(
            manager,
            storage,
            root / "work" / "helmrepository",
            max_index_size=options.max_index_size,
        ),
        "helmchart": helmchart.register(manager, storage, root / "work" / "helmchart"),
        "artifactgenerator": generator_setup.register(
            manager,
            storage,
            root / "work" / "generator",
            allow_cross_namespace=not options.no_cross_namespace_refs,
        ),
    }
    return SourceRuntime(storage, server, remotes, archives, controller, controllers)


def _includes(repository: dict[str, Any], other: dict[str, Any]) -> bool:
    """Tell whether a GitRepository's ``spec.include`` names ``other`` (in its namespace)."""
    namespace, name = object_key(other)
    includes = (repository.get("spec") or {}).get("include") or []
    return (repository["metadata"].get("namespace") or "") == namespace and any(
        (i.get("repository") or {}).get("name") == name for i in includes
    )

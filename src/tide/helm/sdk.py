"""Helm actions through the real Helm SDK (``helm-python-sdk``, Helm v4's Go SDK).

Nothing Helm does is re-implemented: rendering, hooks, CRDs, the three-way merge, waiting
(Helm's ``watcher`` wait, which judges objects by kstatus) and release storage — Secrets
``sh.helm.release.v1.<name>.v<N>`` labelled ``owner=helm`` in the release's namespace, so
``helm list`` and ``helm history`` see what Tide did — are Helm's own.

The SDK blocks (a C library with its own Go runtime); :class:`Helm` runs every call in a worker
thread. One ``helm.Config`` is kept per namespace and identity; the controller reconciles one
HelmRelease at a time per release, which is the SDK's rule for concurrent writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tide import yamlio

__all__ = ["ActionError", "Helm", "Options", "Release"]


def _helm() -> Any:
    """Import the SDK on first use: it loads Helm's Go runtime into the process."""
    import helm_python

    return helm_python


_CANCEL_GRACE = 10.0
"""Seconds a cancelled Helm action is given to record its outcome before the reconcile ends."""


class ActionError(Exception):
    """A Helm action failed; the message is Helm's (template file and line for render errors)."""


@dataclass(frozen=True)
class Release:
    """One stored revision of a release, as ``helm history`` and ``helm get`` show it."""

    name: str
    namespace: str
    version: int
    status: str
    chart_name: str
    chart_version: str
    app_version: str
    first_deployed: str
    last_deployed: str
    description: str
    config: dict[str, Any]
    """The user-supplied values of this revision (may hold secrets: never log it)."""
    manifest: str = ""
    """The rendered manifest of the release's objects (hooks not included)."""
    test_hooks: dict[str, dict[str, str]] = field(default_factory=dict)
    """The chart's test hooks by name, with their last run (``started_at``, ``completed_at``,
    ``phase``; empty strings when they never ran)."""

    @property
    def has_tests(self) -> bool:
        """Whether the chart has test hooks."""
        return bool(self.test_hooks)

    @property
    def tested(self) -> bool:
        """Whether every test hook has run to an end for this revision."""
        return all(run.get("completed_at") for run in self.test_hooks.values())

    @property
    def pending(self) -> bool:
        """Whether an action on this revision never finished (``pending-install`` …)."""
        return self.status.startswith("pending-")

    @property
    def ref(self) -> str:
        """``namespace/name.vN``, as Flux's messages name a release revision."""
        return f"{self.namespace}/{self.name}.v{self.version}"


@dataclass(frozen=True)
class Options:
    """How one action runs.

    Attributes:
        timeout: seconds each Kubernetes operation may take (Helm's ``--timeout``).
        wait: wait for the release's objects to be ready (kstatus, Helm's ``watcher``);
            False waits for hooks only.
    """

    timeout: float = 300.0
    wait: bool = True

    @property
    def wait_mode(self) -> str:
        return "watcher" if self.wait else "hookOnly"


class Helm:
    """Run Helm actions against one cluster.

    Args:
        kubeconfig: the cluster connection as a parsed kubeconfig (the controller's own).
    """

    def __init__(self, kubeconfig: dict[str, Any], *, threads: int = 8) -> None:
        self._kubeconfig = yamlio.dump(kubeconfig)
        self._configs: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        # Helm's own threads: an install may wait minutes for its objects, and must not hold
        # the threads the rest of the process shares (builds, archive extraction).
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tide-helm")

    def close(self) -> None:
        """Free the SDK's connections and threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for config in self._configs.values():
                config.close()
            self._configs.clear()

    def _config(self, namespace: str, user: str | None) -> Any:
        with self._lock:
            config = self._configs.get((namespace, user))
            if config is None:
                config = _helm().Config(
                    kubeconfig_content=self._kubeconfig, namespace=namespace, kube_as_user=user
                )
                self._configs[(namespace, user)] = config
            return config

    async def _call(
        self,
        method: str,
        storage: str,
        user: str | None,
        /,
        *args: Any,
        missing_ok: bool = False,
        cancellable: bool = False,
        **kw: Any,
    ) -> Any:
        """Run ``helm.Config.<method>`` in a Helm thread.

        A missing release is None if ``missing_ok``. A ``cancellable`` action (install,
        upgrade) is given a Helm context: when the reconcile is cancelled (the controller
        stops), Helm is told to stop too and given a moment to record the release as failed,
        rather than leave it ``pending-*`` for the next controller to recover.
        """
        helm = _helm()
        context = helm.HelmContext() if cancellable else None
        if context is not None:
            kw["context"] = context

        def call() -> Any:
            config = self._config(storage, user)
            try:
                return getattr(config, method)(*args, **kw)
            except helm.HelmNotFoundError as error:
                if missing_ok:
                    return None
                raise ActionError(str(error).strip()) from None
            except helm.HelmError as error:
                raise ActionError(str(error).strip()) from None

        future = asyncio.get_running_loop().run_in_executor(self._pool, call)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if context is not None:
                context.cancel()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(future, timeout=_CANCEL_GRACE)
            raise
        finally:
            if context is not None and future.done():
                context.close()

    # -- reads ------------------------------------------------------------------------------------
    async def history(self, name: str, *, namespace: str, user: str | None) -> list[dict]:
        """Return the release's revisions, oldest first (empty when there is no release)."""
        return await self._call("history", namespace, user, name, missing_ok=True) or []

    async def get(
        self, name: str, *, namespace: str, user: str | None, version: int | None = None
    ) -> Release | None:
        """Return one revision (the latest by default), or None when there is none."""
        found = await self._call(
            "get_all", namespace, user, name, missing_ok=True, revision=version
        )
        if not found:
            return None
        summary, info = found.get("summary") or {}, found.get("info") or {}
        return Release(
            name=summary.get("name", name),
            namespace=summary.get("namespace", namespace),
            version=int(summary.get("revision", 0)),
            status=info.get("status") or summary.get("status", ""),
            chart_name=summary.get("chart_name", ""),
            chart_version=summary.get("chart_version", ""),
            app_version=summary.get("app_version", ""),
            first_deployed=info.get("first_deployed", ""),
            last_deployed=info.get("last_deployed", ""),
            description=info.get("description", ""),
            config=found.get("config") or {},
            manifest=summary.get("manifest") or "",
            test_hooks={
                hook["name"]: {
                    key: (hook.get("last_run") or {}).get(key) or ""
                    for key in ("started_at", "completed_at", "phase")
                }
                for hook in found.get("hooks") or []
                if "test" in (hook.get("events") or [])
            },
        )

    # -- writes -----------------------------------------------------------------------------------
    async def install(
        self,
        chart: Path,
        name: str,
        values: dict[str, Any],
        *,
        namespace: str,
        user: str | None,
        options: Options,
        create_namespace: bool = False,
    ) -> None:
        """``helm install``; raises :class:`ActionError` with Helm's reason."""
        await self._call(
            "install",
            namespace,
            user,
            str(chart),
            name,
            values,
            cancellable=True,
            namespace=namespace,
            timeout=int(options.timeout),
            wait=options.wait_mode,
            create_namespace=create_namespace,
        )

    async def upgrade(
        self,
        chart: Path,
        name: str,
        values: dict[str, Any],
        *,
        namespace: str,
        user: str | None,
        options: Options,
        max_history: int,
        cleanup_on_fail: bool = False,
        reuse_values: bool = False,
    ) -> None:
        """``helm upgrade``; raises :class:`ActionError` with Helm's reason."""
        await self._call(
            "upgrade",
            namespace,
            user,
            str(chart),
            name,
            values,
            cancellable=True,
            namespace=namespace,
            timeout=int(options.timeout),
            wait=options.wait_mode,
            max_history=max_history,
            cleanup_on_fail=cleanup_on_fail,
            reuse_values=reuse_values,
            reset_values=not reuse_values,
        )

    async def rollback(
        self, name: str, version: int, *, namespace: str, user: str | None, options: Options
    ) -> None:
        """``helm rollback NAME VERSION``."""
        await self._call(
            "rollback",
            namespace,
            user,
            name,
            version=version,
            timeout=int(options.timeout),
            wait=options.wait_mode,
        )

    async def uninstall(
        self,
        name: str,
        *,
        namespace: str,
        user: str | None,
        options: Options,
        keep_history: bool = False,
    ) -> None:
        """``helm uninstall``; a release that is already gone is not an error."""
        await self._call(
            "uninstall",
            namespace,
            user,
            name,
            keep_history=keep_history,
            timeout=int(options.timeout),
            wait=options.wait_mode,
            ignore_not_found=True,
        )

    async def test(
        self,
        name: str,
        *,
        namespace: str,
        user: str | None,
        options: Options,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
    ) -> None:
        """``helm test``; a failing test hook raises :class:`ActionError`."""
        await self._call(
            "test",
            namespace,
            user,
            name,
            timeout=int(options.timeout),
            include_names=include or None,
            exclude_names=exclude or None,
        )

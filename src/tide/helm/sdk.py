"""Helm actions through the real Helm SDK (``helm-python-sdk``, Helm v4's Go SDK).

Nothing Helm does is re-implemented: rendering, hooks, CRDs, the three-way merge, waiting
(Helm's ``watcher`` wait, which judges objects by kstatus; or only its hooks', ``hookOnly``,
when Tide waits for the objects itself, :mod:`tide.helm.readiness`) and release storage — Secrets
``sh.helm.release.v1.<name>.v<N>`` labelled ``owner=helm`` in the release's namespace, so
``helm list`` and ``helm history`` see what Tide did — are Helm's own.

The SDK blocks (a C library with its own Go runtime); :class:`Helm` runs every call in a worker
thread. One ``helm.Config`` is kept per namespace and identity; the controller reconciles one
HelmRelease at a time per release, which is the SDK's rule for concurrent writes.

An install or upgrade holds its thread for the whole of Helm's wait (kstatus, up to
``timeout``). So actions get a thread for each reconcile that may run at once (``threads``,
the controller's ``--concurrent``), and reads (``helm get``, ``helm history``) have threads of
their own: no release queues behind another's wait, only behind the worker bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tide import yamlio
from tide.helm import postrender

__all__ = ["DEFAULT_BURST", "DEFAULT_QPS", "ActionError", "Helm", "Options", "Release"]


def _helm() -> Any:
    """Import the SDK on first use: it loads Helm's Go runtime into the process."""
    import helm_python

    return helm_python


DEFAULT_QPS = 50.0
"""Requests per second of Helm's Kubernetes client for one namespace and identity.

Flux's helm-controller default (``--kube-api-qps``). client-go's own, 5/s with a burst of 10,
made ``bench/helmreleases.py``'s 100 releases queue behind their rate limiter (136 s to all
Ready; a trial at 100/s took 91 s).
"""
DEFAULT_BURST = 300
"""Requests Helm's client may send back to back: Flux's ``--kube-api-burst`` default (fluxcd/pkg
``runtime/client``, 300, with ``--kube-api-qps`` 50)."""
_READ_THREADS = 4
"""Threads for Helm's reads: each takes one storage request or two, never a wait."""

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
    """How one action runs: the HelmRelease's per-action settings, as Helm's options.

    Attributes:
        timeout: seconds each Kubernetes operation may take (Helm's ``--timeout``).
        wait: wait for the release's objects to be ready (kstatus, Helm's ``watcher``);
            False waits for hooks only.
        wait_for_jobs: while waiting, also wait for Jobs to complete (Flux's default;
            ``disableWaitForJobs`` turns it off).
        disable_hooks: run none of the chart's hooks (``disableHooks``).
        disable_openapi_validation: do not validate the manifests against the cluster's
            OpenAPI schema (``disableOpenAPIValidation``).
        force: replace objects rather than patch them (``upgrade|rollback.force``, Helm's
            ``--force-replace``, which needs client-side apply).
        replace: reuse the name of a release kept in history (``install.replace``).
        skip_crds: do not create the chart's ``crds/`` (``install.crds: Skip``).
        cleanup_on_fail: delete the objects a failed upgrade or rollback created.
        deletion_propagation: how an uninstall deletes (``uninstall.deletionPropagation``).
        create_namespace: create the release namespace first (``install.createNamespace``).
        max_history: revisions an upgrade keeps; 0 keeps all.
        reuse_values: merge the new values over the last release's rather than the chart's
            (``upgrade.preserveValues``).
    """

    timeout: float = 300.0
    wait: bool = True
    wait_for_jobs: bool = False
    disable_hooks: bool = False
    disable_openapi_validation: bool = False
    force: bool = False
    replace: bool = False
    skip_crds: bool = False
    cleanup_on_fail: bool = False
    deletion_propagation: str | None = None
    create_namespace: bool = False
    max_history: int = 0
    reuse_values: bool = False

    @property
    def wait_mode(self) -> str:
        return "watcher" if self.wait else "hookOnly"

    def native(self, action: str) -> dict[str, Any]:
        """The SDK's option keys for ``action``: each action refuses keys it does not know."""
        every = {
            "timeout_seconds": int(self.timeout),
            "wait": self.wait_mode,
            "wait_for_jobs": self.wait and self.wait_for_jobs,
            "disable_hooks": self.disable_hooks,
            "disable_openapi_validation": self.disable_openapi_validation,
            "force_replace": self.force,
            # Helm refuses a replace with server-side apply; Flux's force is client-side.
            "server_side_apply": "false" if self.force else None,
            "replace": self.replace,
            "skip_crds": self.skip_crds,
            "cleanup_on_fail": self.cleanup_on_fail,
            "deletion_propagation": self.deletion_propagation,
            "create_namespace": self.create_namespace,
            "max_history": self.max_history,
            "reuse_values": self.reuse_values,
            "reset_values": not self.reuse_values,
        }
        return {key: value for key, value in every.items() if key in _KEYS[action] and value}


_KEYS = {
    "helm_install": {
        "timeout_seconds", "wait", "wait_for_jobs", "disable_hooks",
        "disable_openapi_validation", "replace", "skip_crds", "create_namespace",
    },
    "helm_upgrade": {
        "timeout_seconds", "wait", "wait_for_jobs", "disable_hooks",
        "disable_openapi_validation", "force_replace", "server_side_apply", "cleanup_on_fail",
        "max_history", "reuse_values", "reset_values",
    },
    "helm_rollback": {
        "timeout_seconds", "wait", "wait_for_jobs", "disable_hooks", "force_replace",
        "server_side_apply", "cleanup_on_fail",
    },
    "helm_uninstall": {"timeout_seconds", "wait", "disable_hooks", "deletion_propagation"},
}  # fmt: skip
"""Which of :class:`Options` each native action takes (helm-c-sdk's option structs)."""


class Helm:
    """Run Helm actions against one cluster.

    Args:
        kubeconfig: the cluster connection as a parsed kubeconfig (the controller's own).
        threads: actions that may run at once, waits included: the controller's
            ``--concurrent``, so that none waits for a thread. Default: 8.
        qps: requests per second of Helm's Kubernetes client, per namespace and identity
            (``--kube-api-qps``). Default: :data:`DEFAULT_QPS`.
        burst: requests it may send back to back (``--kube-api-burst``). Default:
            :data:`DEFAULT_BURST`.
    """

    def __init__(
        self,
        kubeconfig: dict[str, Any],
        *,
        threads: int = 8,
        qps: float = DEFAULT_QPS,
        burst: int = DEFAULT_BURST,
    ) -> None:
        self._kubeconfig = yamlio.dump(kubeconfig)
        self._configs: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self.threads, self.qps, self.burst = threads, qps, burst
        # Helm's own threads: an install may wait minutes for its objects, and must not hold
        # the threads the rest of the process shares (builds, archive extraction), nor those
        # that reads of other releases need.
        self._actions = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tide-helm")
        self._reads = ThreadPoolExecutor(
            max_workers=_READ_THREADS, thread_name_prefix="tide-helm-read"
        )

    def like(self, kubeconfig: dict[str, Any]) -> Helm:
        """Return Helm for another cluster, with these threads and client limits."""
        return Helm(kubeconfig, threads=self.threads, qps=self.qps, burst=self.burst)

    def close(self) -> None:
        """Free the SDK's connections and threads."""
        self._actions.shutdown(wait=False, cancel_futures=True)
        self._reads.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for config in self._configs.values():
                config.close()
            self._configs.clear()

    def _config(self, namespace: str, user: str | None) -> Any:
        with self._lock:
            config = self._configs.get((namespace, user))
            if config is None:
                config = _helm().Config(
                    kubeconfig_content=self._kubeconfig,
                    namespace=namespace,
                    kube_as_user=user,
                    qps=self.qps,
                    burst_limit=self.burst,
                )
                self._configs[(namespace, user)] = config
            return config

    async def _call(
        self,
        storage: str,
        user: str | None,
        run: Callable[[Any, Any], Any],
        /,
        *,
        missing_ok: bool = False,
        cancellable: bool = False,
        read: bool = False,
    ) -> Any:
        """Run ``run(config, context)`` in a Helm thread, with the ``helm.Config`` to use.

        A ``read`` runs on the read threads, never behind an action's wait. A missing release
        is None if ``missing_ok``. A ``cancellable`` action (install,
        upgrade) is given a Helm context: when the reconcile is cancelled (the controller
        stops), Helm is told to stop too and given a moment to record the release as failed,
        rather than leave it ``pending-*`` for the next controller to recover.
        """
        helm = _helm()
        context = helm.HelmContext() if cancellable else None

        def call() -> Any:
            config = self._config(storage, user)
            try:
                return run(config, context)
            except helm.HelmNotFoundError as error:
                if missing_ok:
                    return None
                raise ActionError(str(error).strip()) from None
            except helm.HelmError as error:
                raise ActionError(str(error).strip()) from None

        pool = self._reads if read else self._actions
        future = asyncio.get_running_loop().run_in_executor(pool, call)
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

    async def _act(
        self,
        function: str,
        name: str,
        *,
        namespace: str,
        user: str | None,
        options: dict[str, Any],
        chart: Path | None = None,
        values: dict[str, Any] | None = None,
        render: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Run the native release action ``function`` with ``options`` as its options JSON.

        Returns the SDK's JSON reply of an install or upgrade (the release, with its manifest).

        The SDK's ``Config.install|upgrade|rollback|uninstall`` forward a fixed few of the
        options the native functions decode: no post-renderer, hooks, CRD policy, replace,
        force or Job waits. So the native functions are called with the options JSON itself
        (``helm_python._native``, the SDK's one ctypes table); the keys are helm-c-sdk's
        option structs, an ABI it keeps additive only. ``render`` (a
        :func:`tide.helm.postrender.render_spec`) post-renders an install or upgrade.
        """

        def run(config: Any, context: Any) -> str | None:
            native = _helm()._native
            with postrender.native_options(render) as rendering:
                payload = json.dumps({**options, **rendering})
                try:
                    if chart is not None:  # install, upgrade
                        return native.call_string(
                            function,
                            config._raw(),
                            config._context_arg(context),
                            native.HANDLE(0),
                            str(chart),
                            name,
                            json.dumps(values or {}),
                            payload,
                        )
                    if function == "helm_rollback":
                        native.call_status(function, config._raw(), name, payload)
                    else:
                        native.call_string(function, config._raw(), name, payload)
                    return None
                except _helm().HelmError:
                    problem = postrender.failure(rendering)
                    if problem is None:
                        raise
                    # Helm's own words only name the plugin; the program's say what failed.
                    raise ActionError(f"post-rendering the manifests failed: {problem}") from None

        try:
            return await self._call(namespace, user, run, cancellable=chart is not None)
        except postrender.PostRenderError as error:
            raise ActionError(str(error)) from None

    # -- reads ------------------------------------------------------------------------------------
    async def history(self, name: str, *, namespace: str, user: str | None) -> list[dict]:
        """Return the release's revisions, oldest first (empty when there is no release)."""
        found = await self._call(
            namespace, user, lambda c, _: c.history(name), missing_ok=True, read=True
        )
        return found or []

    async def get(
        self, name: str, *, namespace: str, user: str | None, version: int | None = None
    ) -> Release | None:
        """Return one revision (the latest by default), or None when there is none."""
        found = await self._call(
            namespace,
            user,
            lambda c, _: c.get_all(name, revision=version),
            missing_ok=True,
            read=True,
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
    async def release(
        self,
        name: str,
        *,
        action: str,
        chart: Path,
        values: dict[str, Any],
        namespace: str,
        user: str | None,
        options: Options,
        render: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> str:
        """``helm install`` or ``helm upgrade`` (``action``) of ``chart`` as release ``name``.

        ``render`` is a :func:`tide.helm.postrender.render_spec`. With ``dry_run`` the action
        is Helm's ``--dry-run=server``: the same templates, values and post-render plugin,
        ``lookup`` seeing the live cluster, nothing applied or stored. Returns the manifest
        Helm rendered (post-rendered). Raises :class:`ActionError` with Helm's reason.
        """
        function = f"helm_{action}"
        native = {**options.native(function), "namespace": namespace}
        if dry_run:
            native["dry_run"] = "server"
        reply = await self._act(
            function,
            name,
            namespace=namespace,
            user=user,
            options=native,
            chart=chart,
            values=values,
            render=render,
        )
        found = json.loads(reply or "{}") or {}
        return str(found.get("manifest") or (found.get("summary") or {}).get("manifest") or "")

    async def rollback(
        self, name: str, version: int, *, namespace: str, user: str | None, options: Options
    ) -> None:
        """``helm rollback NAME VERSION``."""
        native = {**options.native("helm_rollback"), "version": version}
        await self._act("helm_rollback", name, namespace=namespace, user=user, options=native)

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
        native = {**options.native("helm_uninstall"), "ignore_not_found": True}
        if keep_history:
            native["keep_history"] = True
        await self._act("helm_uninstall", name, namespace=namespace, user=user, options=native)

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
            namespace,
            user,
            lambda c, _: c.test(
                name,
                timeout=int(options.timeout),
                include_names=include or None,
                exclude_names=exclude or None,
            ),
        )

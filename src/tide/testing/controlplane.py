"""A real Kubernetes control plane on loopback: etcd + kube-apiserver, optionally workloads.

``ControlPlane`` is what Tide's own integration tests run against, and users' tests can too (the
:mod:`tide.testing.pytest_plugin` fixtures wrap it). It starts the binaries that
:mod:`tide.testing.binaries` builds, with TLS, client-certificate and ServiceAccount-token
authentication and RBAC authorization, on free ports of 127.0.0.1, with all state in one data
folder. ``workloads=True`` adds kube-controller-manager, kube-scheduler and kwok with one simulated
node, so Deployments roll out and become Available without containers.

No server outlives its owner by accident. Each process is written to ``state.json`` in the data
folder the moment it is spawned, with its start time and executable, so a start killed half-way
leaves a record that :meth:`ControlPlane.stop_recorded` (and the next :meth:`~ControlPlane.start`
on that folder) uses to stop it, and a recorded pid that now names another program is never
signalled. Unless ``detach`` is set, Linux also stops every server when the thread that started
the plane dies, even by SIGKILL, when ``atexit`` handlers do not run.

Example::

    with ControlPlane() as cp:
        subprocess.run(["kubectl", "--kubeconfig", cp.kubeconfig, "get", "ns"], check=True)
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tide.testing import _kubeconfig, _workloads
from tide.testing._process import ServerProcess, free_port
from tide.testing.binaries import Binaries, ensure_binaries

__all__ = ["ControlPlane", "ControlPlaneError"]

_STATE_FILE = "state.json"
_RUNNING: set[ControlPlane] = set()


class ControlPlaneError(RuntimeError):
    """A control-plane component failed to start; the message carries its log tail."""


@dataclass(eq=False)
class ControlPlane:
    """A throwaway Kubernetes control plane.

    Args:
        data_dir: folder for certificates, etcd data, logs and kubeconfigs (default: a new temp
            folder, removed on ``stop``). A given folder is emptied on start, after stopping any
            servers its ``state.json`` records, and kept on stop.
        workloads: also run kube-controller-manager, kube-scheduler and kwok with one fake node.
        start_timeout: seconds each component may take to become ready (default 60; a cold
            2-core machine takes a few seconds).
        detach: leave the servers running when this Python process exits (``tide dev up``).
    """

    data_dir: Path | None = None
    workloads: bool = False
    start_timeout: float = 60.0
    detach: bool = False
    startup_seconds: float = 0.0
    """Measured seconds from ``start()`` to every component ready."""
    server: str = ""
    """HTTPS URL of the API server."""
    _owns_dir: bool = False
    _processes: list[ServerProcess] = field(default_factory=list)
    _etcd_url: str = ""
    _apiserver_command: list[str] = field(default_factory=list)

    # -- paths ------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """Return the data folder."""
        if self.data_dir is None:
            raise ControlPlaneError("control plane not started")
        return self.data_dir

    @property
    def kubeconfig(self) -> Path:
        """Return the admin kubeconfig (user ``admin`` in ``system:masters``)."""
        return self.root / "admin.kubeconfig"

    @property
    def ca_file(self) -> Path:
        """Return the CA that signed the API server's serving certificate."""
        return self.root / "pki" / "ca.crt"

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> ControlPlane:
        """Start every component and return once the API server answers ``/readyz``.

        Unless ``detach`` is set, each server is told to stop when its parent goes away. Linux
        ties that to the *thread* that started it, not the process, so call ``start()`` from a
        thread that lives as long as the plane: the main thread (where pytest runs fixtures),
        not a short-lived worker such as one ``asyncio.to_thread`` call would be, or the servers
        stop when that worker thread ends.
        """
        binaries = ensure_binaries()
        began = time.monotonic()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="tide-cp-"))
            self._owns_dir = True
        else:
            self.stop_recorded(self.data_dir)  # an earlier plane's servers, before their folder
            self.data_dir.mkdir(mode=0o700, parents=True)
        if not self.detach:
            _RUNNING.add(self)
        try:
            _kubeconfig.write_pki(self.root / "pki")
            self._start_etcd(binaries)
            self._start_apiserver(binaries)
            if self.workloads:
                self._start_workloads(binaries)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        self._save_state(complete=True)
        return self

    def stop(self) -> None:
        """Stop every component (newest first) and remove the data folder if it was ours."""
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        _RUNNING.discard(self)
        if self.data_dir is None:
            return
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        else:
            (self.data_dir / _STATE_FILE).unlink(missing_ok=True)

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver alone, as an outage would; etcd and every other server run on.

        Objects stay in etcd, and :meth:`start_apiserver` brings the API back on the same
        address with the same certificates, so clients reconnect as they would to a restarted
        server. Meant for tests of what a client does while the API server is away.
        """
        apiserver = self._apiserver()
        if apiserver is None:
            return
        apiserver.stop()
        self._processes.remove(apiserver)
        self._save_state(complete=True)

    def start_apiserver(self) -> None:
        """Start kube-apiserver again after :meth:`stop_apiserver`; return once it is ready.

        Call it from a thread that lives as long as the plane (see :meth:`start`). Only the
        plane that started the servers knows how; an attached one raises ControlPlaneError.
        """
        if self._apiserver() is not None:
            return
        if not self._apiserver_command:
            raise ControlPlaneError("this plane did not start kube-apiserver; cannot restart it")
        apiserver = self._spawn("kube-apiserver", self._apiserver_command)
        # Back in its place (after etcd, before the workloads), so stop() ends it in order.
        self._processes.remove(apiserver)
        self._processes.insert(1, apiserver)
        self._save_state()
        self._wait(apiserver, self.ready, "ready")
        self._save_state(complete=True)

    def _apiserver(self) -> ServerProcess | None:
        return next((p for p in self._processes if p.name == "kube-apiserver"), None)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- a running control plane started by another process (tide dev) ---------------------
    @classmethod
    def attach(cls, data_dir: Path) -> ControlPlane | None:
        """Return the control plane recorded in ``data_dir`` if it started and all its servers run.

        A half-finished start (its starter was killed) is not attached to; stop it with
        :meth:`stop_recorded`. The returned plane can mint users like the one that started it.
        """
        state = _read_state(data_dir)
        if state is None or not state.get("complete"):
            return None
        processes = _recorded_processes(state)
        if not processes or not all(p.alive() for p in processes):
            return None
        plane = cls(data_dir=data_dir, workloads=bool(state.get("workloads")), detach=True)
        plane.server = str(state.get("server", ""))
        plane._processes = processes
        return plane if plane.ready() else None

    @staticmethod
    def stop_recorded(data_dir: Path) -> int:
        """Stop whatever servers ``data_dir`` records, remove the folder; return how many ran.

        A recorded pid whose start time or executable differs from the record (the machine
        rebooted, or the pid was reused) belongs to someone else and is left alone.
        """
        stopped = 0
        state = _read_state(data_dir) or {}
        for process in reversed(_recorded_processes(state)):
            if process.alive():
                process.stop()
                stopped += 1
        shutil.rmtree(data_dir, ignore_errors=True)
        return stopped

    def _save_state(self, *, complete: bool = False) -> None:
        """Write ``state.json`` whole or not at all: a torn file would hide running servers."""
        state = {
            "server": self.server,
            "workloads": self.workloads,
            "kubeconfig": str(self.kubeconfig),
            "complete": complete,
            "processes": [p.record() for p in self._processes],
        }
        path = self.root / _STATE_FILE
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(state, indent=2))
        os.replace(partial, path)

    # -- credentials --------------------------------------------------------------------------
    def kubeconfig_for_user(self, name: str, *, groups: tuple[str, ...] = ()) -> Path:
        """Mint a client certificate for an ordinary user and return its kubeconfig.

        The user has no rights until RBAC grants them, which is what RBAC tests need. Works on
        an attached plane too: the client CA is read from the data folder.
        """
        try:
            return self._kubeconfigs().user(name, groups=groups)
        except FileNotFoundError as error:
            raise ControlPlaneError(
                f"cannot mint users: {error.filename} is missing (a plane started by an older "
                "Tide keeps its client-CA key in memory only; restart it)"
            ) from error

    def kubeconfig_for_service_account(
        self, namespace: str, name: str, *, expiration_seconds: int = 3600
    ) -> Path:
        """Request a token for an existing ServiceAccount; return its kubeconfig."""
        answer = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            json=_kubeconfig.token_request(expiration_seconds),
        )
        return self._kubeconfigs().token(f"sa-{namespace}-{name}", answer["status"]["token"])

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one admin request to the API server and return the decoded JSON answer.

        Meant for test set-up; Tide's controllers use :mod:`tide.kube` instead.
        """
        with self._http() as http:
            response = http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def serve_pod_logs(self, pod: str, namespace: str, log_file: Path) -> None:
        """Make ``log_file`` the log of every container of ``pod`` (needs ``workloads``).

        kwok, playing the node's kubelet, serves the file to ``pods/{pod}/log``. Write it in the
        CRI log format, one ``<RFC 3339 time> stdout F <line>`` per line.
        """
        if not self.workloads:
            raise ControlPlaneError("pod logs are served by kwok: start with workloads=True")
        logs = _workloads.pod_logs(pod, namespace, str(log_file))
        self.kubectl("apply", "-f", "-", input=json.dumps(logs))

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        """Run kubectl as admin against this control plane and return its output."""
        completed = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and completed.returncode != 0:
            raise ControlPlaneError(f"kubectl {' '.join(args)}: {completed.stderr.strip()}")
        return completed.stdout

    def ready(self) -> bool:
        """Tell whether the API server answers ``/readyz`` with 200 (False if its PKI is gone)."""
        try:
            with self._http() as http:
                return http.get("/readyz", timeout=2.0).status_code == 200
        except (httpx.HTTPError, OSError):
            return False

    # -- internals ----------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        pki = self.root / "pki"
        context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        return httpx.Client(base_url=self.server, verify=context, timeout=10.0)

    def _kubeconfigs(self) -> _kubeconfig.Kubeconfigs:
        return _kubeconfig.Kubeconfigs(folder=self.root, server=self.server)

    def _spawn(self, name: str, command: list[str]) -> ServerProcess:
        """Start one server and record it in ``state.json`` before anything else can fail."""
        process = ServerProcess.start(
            name, command, log=self.root / f"{name}.log", die_with_parent=not self.detach
        )
        self._processes.append(process)
        self._save_state()
        return process

    def _wait(self, process: ServerProcess, probe: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not process.alive():
                tail = process.log_tail()
                raise ControlPlaneError(f"{process.name} exited during start:\n{tail}")
            if probe():
                return
            time.sleep(0.1)
        raise ControlPlaneError(
            f"{process.name} was not {what} within {self.start_timeout:.0f}s:\n{process.log_tail()}"
        )

    def _start_etcd(self, binaries: Binaries) -> None:
        client_url = f"http://127.0.0.1:{free_port()}"
        peer_url = f"http://127.0.0.1:{free_port()}"
        self._etcd_url = client_url
        etcd = self._spawn(
            "etcd",
            [
                str(binaries.etcd),
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )

        def healthy() -> bool:
            try:
                return httpx.get(f"{client_url}/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        self._wait(etcd, healthy, "healthy")

    def _start_apiserver(self, binaries: Binaries) -> None:
        port = free_port()
        pki = self.root / "pki"
        self.server = f"https://127.0.0.1:{port}"
        command = [
            str(binaries.kube_apiserver),
            f"--etcd-servers={self._etcd_url}",
            f"--secure-port={port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--cert-dir={pki}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'client-ca.crt'}",
            f"--service-account-issuer={self.server}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/16",  # room for benchmarks with 1000s of Services
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            "--profiling=false",
            # On SIGTERM the default (lease) reconciler removes this server from the `kubernetes`
            # Service and waits the full request timeout (60s) when etcd stops at the same time,
            # as it does when both get their parent's death signal. No pod here ever dials that
            # Service, so nothing needs its endpoints.
            "--endpoint-reconciler-type=none",
            # kwok's node lists its name (unresolvable) before its InternalIP, 127.0.0.1, where
            # kwok serves the kubelet API that pods/log reaches.
            "--kubelet-preferred-address-types=InternalIP",
        ]
        if not self.workloads:
            # Without a controller-manager nothing creates the default ServiceAccount that this
            # admission plugin requires of every pod.
            command.append("--disable-admission-plugins=ServiceAccount")
        self._apiserver_command = command
        apiserver = self._spawn("kube-apiserver", command)
        self._kubeconfigs().admin()
        self._wait(apiserver, self.ready, "ready")

    def _start_workloads(self, binaries: Binaries) -> None:
        _workloads.start(
            binaries,
            pki=self.root / "pki",
            kubeconfig=self.kubeconfig,
            spawn=self._spawn,
            wait=self._wait,
            kubectl=self.kubectl,
        )


def _read_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((data_dir / _STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _recorded_processes(state: dict[str, Any]) -> list[ServerProcess]:
    """Return the processes ``state`` records, skipping entries that do not parse."""
    processes = []
    for record in state.get("processes") or ():
        with contextlib.suppress(KeyError, TypeError, ValueError):
            processes.append(ServerProcess.from_record(record))
    return processes


@atexit.register
def _stop_all() -> None:
    """Stop control planes the process still runs, so an aborted test run leaves no servers."""
    for plane in list(_RUNNING):
        plane.stop()

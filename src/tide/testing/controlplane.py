"""A real Kubernetes control plane on loopback: etcd + kube-apiserver, optionally workloads.

``ControlPlane`` is what Tide's own integration tests run against, and users' tests can too. It
starts the binaries that :mod:`tide.testing.binaries` builds, with TLS, client-certificate and
ServiceAccount-token authentication and RBAC authorization, on free ports of 127.0.0.1, with all
state in one data folder. ``workloads=True`` adds kube-controller-manager, kube-scheduler and kwok
with one simulated node, so Deployments roll out and become Available without containers.

Example::

    with ControlPlane() as cp:
        subprocess.run(["kubectl", "--kubeconfig", cp.kubeconfig, "get", "ns"], check=True)
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tide.testing import _certs
from tide.testing._process import ServerProcess, free_port, pid_alive, stop_pid
from tide.testing.binaries import Binaries, ensure_binaries

__all__ = ["ControlPlane", "ControlPlaneError"]

_STATE_FILE = "state.json"
_FAKE_NODE = "kwok-node-0"
_RUNNING: set[ControlPlane] = set()


class ControlPlaneError(RuntimeError):
    """A control-plane component failed to start; the message carries its log tail."""


@dataclass(eq=False)
class ControlPlane:
    """A throwaway Kubernetes control plane.

    Args:
        data_dir: folder for certificates, etcd data, logs and kubeconfigs (default: a new temp
            folder, removed on ``stop``). A given folder is emptied on start and kept on stop.
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
        """Start every component and return once the API server answers ``/readyz``."""
        binaries = ensure_binaries()
        began = time.monotonic()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="tide-cp-"))
            self._owns_dir = True
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir.mkdir(parents=True)
        if not self.detach:
            _RUNNING.add(self)
        try:
            self._write_pki()
            self._start_etcd(binaries)
            self._start_apiserver(binaries)
            if self.workloads:
                self._start_workloads(binaries)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        self._save_state()
        return self

    def stop(self) -> None:
        """Stop every component (newest first) and remove the data folder if it was ours."""
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        _RUNNING.discard(self)
        if self._owns_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- a running control plane started by another process (tide dev) ---------------------
    @classmethod
    def attach(cls, data_dir: Path) -> ControlPlane | None:
        """Return the control plane recorded in ``data_dir`` if all its servers still run."""
        try:
            state = json.loads((data_dir / _STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        processes = [ServerProcess(p["name"], p["pid"], Path(p["log"])) for p in state["processes"]]
        if not processes or not all(pid_alive(p.pid) for p in processes):
            return None
        plane = cls(data_dir=data_dir, workloads=state["workloads"], detach=True)
        plane.server = state["server"]
        plane._processes = processes
        return plane if plane.ready() else None

    @staticmethod
    def stop_recorded(data_dir: Path) -> int:
        """Stop whatever servers ``data_dir`` records, remove the folder; return how many ran."""
        stopped = 0
        with contextlib.suppress(OSError, ValueError, KeyError):
            state = json.loads((data_dir / _STATE_FILE).read_text())
            for process in reversed(state["processes"]):
                if pid_alive(process["pid"]):
                    stop_pid(process["pid"])
                    stopped += 1
        shutil.rmtree(data_dir, ignore_errors=True)
        return stopped

    def _save_state(self) -> None:
        state = {
            "server": self.server,
            "workloads": self.workloads,
            "kubeconfig": str(self.kubeconfig),
            "processes": [
                {"name": p.name, "pid": p.pid, "log": str(p.log)} for p in self._processes
            ],
        }
        (self.root / _STATE_FILE).write_text(json.dumps(state, indent=2))

    # -- credentials --------------------------------------------------------------------------
    def kubeconfig_for_user(self, name: str, *, groups: tuple[str, ...] = ()) -> Path:
        """Mint a client certificate for an ordinary user and return its kubeconfig.

        The user has no rights until RBAC grants them, which is what RBAC tests need.
        """
        client_ca = self._load_client_ca()
        pair = client_ca.issue(name, organizations=groups)
        return self._write_kubeconfig(
            f"user-{name}",
            user={
                "client-certificate-data": _b64(pair.cert_pem),
                "client-key-data": _b64(pair.key_pem),
            },
        )

    def kubeconfig_for_service_account(
        self, namespace: str, name: str, *, expiration_seconds: int = 3600
    ) -> Path:
        """Request a token for an existing ServiceAccount; return its kubeconfig."""
        answer = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            json={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": expiration_seconds},
            },
        )
        token = answer["status"]["token"]
        return self._write_kubeconfig(f"sa-{namespace}-{name}", user={"token": token})

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one admin request to the API server and return the decoded JSON answer.

        Meant for test set-up; Tide's controllers use :mod:`tide.kube` instead.
        """
        with self._http() as http:
            response = http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

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
        """Tell whether the API server answers ``/readyz`` with 200."""
        try:
            with self._http() as http:
                return http.get("/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    # -- internals ----------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        pki = self.root / "pki"
        context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        return httpx.Client(base_url=self.server, verify=context, timeout=10.0)

    def _write_pki(self) -> None:
        pki = self.root / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        serving_ca = _certs.CertificateAuthority("tide-serving-ca")
        client_ca = _certs.CertificateAuthority("tide-client-ca")
        serving = serving_ca.issue(
            "kube-apiserver", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True
        )
        admin = client_ca.issue("admin", organizations=("system:masters",))
        service_accounts = _certs.service_account_keys()
        files = {
            "ca.crt": serving_ca.cert_pem,
            "client-ca.crt": client_ca.cert_pem,
            "apiserver.crt": serving.cert_pem,
            "apiserver.key": serving.key_pem,
            "admin.crt": admin.cert_pem,
            "admin.key": admin.key_pem,
            "sa.pub": service_accounts.cert_pem,
            "sa.key": service_accounts.key_pem,
        }
        for name, content in files.items():
            (pki / name).write_bytes(content)
            (pki / name).chmod(0o600)
        # Kept in memory only for minting users later in this process.
        self._client_ca = client_ca

    def _load_client_ca(self) -> _certs.CertificateAuthority:
        client_ca = getattr(self, "_client_ca", None)
        if client_ca is None:
            raise ControlPlaneError("only the process that started the plane can mint users")
        return client_ca

    def _write_kubeconfig(self, name: str, *, user: dict[str, str]) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "tide",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": _b64(self.ca_file.read_bytes()),
                    },
                }
            ],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": "tide", "user": name}}],
            "current-context": name,
        }
        path = self.root / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path

    def _spawn(self, name: str, command: list[str]) -> ServerProcess:
        process = ServerProcess.start(name, command, log=self.root / f"{name}.log")
        self._processes.append(process)
        return process

    def _wait(self, process: ServerProcess, probe: Any, what: str) -> None:
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
            "--service-cluster-ip-range=10.0.0.0/24",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            "--profiling=false",
        ]
        if not self.workloads:
            # Without a controller-manager nothing creates the default ServiceAccount that this
            # admission plugin requires of every pod.
            command.append("--disable-admission-plugins=ServiceAccount")
        apiserver = self._spawn("kube-apiserver", command)
        self._write_kubeconfig(
            "admin",
            user={
                "client-certificate-data": _b64((pki / "admin.crt").read_bytes()),
                "client-key-data": _b64((pki / "admin.key").read_bytes()),
            },
        )
        self._wait(apiserver, self.ready, "ready")

    def _start_workloads(self, binaries: Binaries) -> None:
        pki = self.root / "pki"
        kubeconfig = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                str(binaries.kube_controller_manager),
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--controllers=*,-bootstrapsigner,-tokencleaner,-persistentvolume-binder",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
                "--concurrent-deployment-syncs=10",
                "--concurrent-replicaset-syncs=10",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(binaries.kube_scheduler),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
            ],
        )
        kwok = self._spawn(
            "kwok",
            [
                str(binaries.kwok),
                f"--kubeconfig={kubeconfig}",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--cidr=10.0.128.0/17",
                "--node-ip=127.0.0.1",
            ],
        )
        self.kubectl("apply", "-f", "-", input=json.dumps(_fake_node(_FAKE_NODE)))

        def node_ready() -> bool:
            out = self.kubectl(
                "get",
                "node",
                _FAKE_NODE,
                "-o",
                'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
                check=False,
            )
            return out.strip() == "True"

        self._wait(kwok, node_ready, "managing a Ready node")

        def default_service_account() -> bool:
            out = self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False)
            return "default" in out

        self._wait(self._processes[-3], default_service_account, "creating ServiceAccounts")


def _fake_node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "type": "kwok",
            },
        },
        "spec": {"providerID": f"kwok://{name}"},
        "status": {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "2000"},
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "2000"},
        },
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@atexit.register
def _stop_all() -> None:
    """Stop control planes the process still runs, so an aborted test run leaves no servers."""
    for plane in list(_RUNNING):
        plane.stop()

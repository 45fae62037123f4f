"""``tide controller``: run Tide's reconcilers against the current kubeconfig context.

Flags follow Flux's controllers where they have one (``--metrics-addr``, ``--health-addr``,
``--concurrent``, ``--enable-leader-election``, ``--leader-election-*`` durations,
``--storage-path``, ``--storage-addr``, ``--storage-adv-addr``,
``--artifact-retention-records``, ``--default-service-account``, ``--requeue-dependency``,
``--no-cross-namespace-refs``, ``--no-remote-bases``, ``--receiverAddr`` (also spelled
``--receiver-addr``), ``--events-addr`` (an address to listen on, or as Flux's other
controllers take it an ``http(s)://`` URL to send every event to), ``--rate-limit-interval``,
``--watch-label-selector``, ``--feature-gates`` (``ObjectLevelWorkloadIdentity``, off by
default), ``--kube-api-qps`` and ``--kube-api-burst`` (Helm's Kubernetes client, per namespace
and identity; Tide's own client is not rate limited), ``--watch-all-namespaces``
(false: only the namespace in ``$RUNTIME_NAMESPACE``, as Flux reads it)), so a Flux user's
Deployment arguments carry over. Boolean flags take Go's ``--flag=true|false`` too (see
:mod:`tide.cli._flags`). ``--registry-rps`` and ``--cluster-name`` are Tide's own: the request
budget per image registry host, and the cluster named in every notification (``cluster`` in
its metadata). ``--artifact-max-unpacked-size`` is Tide's own: the most bytes an artifact may
unpack to in the Kustomization controller (Flux sets none). ``--events-addr`` defaults to
``:9091``, not Flux's ``:9090``, which the artifact server holds in the same process.

Exit codes: 0 after a graceful stop (SIGTERM, Ctrl-C); 1 when the controller cannot run or
must not go on — an address it cannot listen on, the API server or Tide's CRDs out of reach at
start, leadership lost — always with one line on standard error saying which; 2 for bad flags.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from tide import artifacts, notification, source
from tide.api.meta import parse_duration
from tide.api.selectors import parse_selector
from tide.cli import logs
from tide.helm import sdk as helm_sdk
from tide.helm import setup as helm_setup
from tide.image import automation as image_automation
from tide.image import setup as image_setup
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.kustomize import setup as kustomize_setup
from tide.runtime import features
from tide.runtime.eventforward import EventForwarder
from tide.runtime.leader import LeaseConfig
from tide.runtime.manager import CacheSyncTimeout, LeadershipLost, Manager, ManagerOptions
from tide.runtime.servers import CannotListen, Endpoint, parse_address

__all__ = ["CONTROLLERS", "run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControllerOptions:
    """What the controllers take from the command line besides the manager's options."""

    source: source.SourceOptions
    default_service_account: str | None = None
    requeue_dependency: float = 30.0
    no_cross_namespace_refs: bool = False
    artifact_max_unpacked_size: int | None = artifacts.DEFAULT_MAX_UNPACKED_SIZE
    no_remote_bases: bool = False
    receiver: Endpoint | None = None
    """Where the Receiver webhook server listens (``--receiver-addr``)."""
    registry_rps: float = image_setup.DEFAULT_RPS
    notification: notification.DispatchOptions | None = None
    events_addr: Endpoint | None = None
    """Where the notification controller's HTTP events endpoint listens."""
    forward_events_to: str | None = None
    """The notification controller's events URL this process POSTs its events to."""
    feature_gates: frozenset[str] = frozenset()
    """The gates ``--feature-gates`` leaves on (:mod:`tide.runtime.features`)."""
    kube_api_qps: float = helm_sdk.DEFAULT_QPS
    """Requests per second of Helm's Kubernetes client (``--kube-api-qps``)."""
    kube_api_burst: int = helm_sdk.DEFAULT_BURST
    """Requests Helm's client may send back to back (``--kube-api-burst``)."""

    def dependents(self) -> dict[str, Any]:
        """The flags Flux's kustomize- and helm-controller both take, as their setups name them."""
        return {
            "default_service_account": self.default_service_account,
            "requeue_dependency": self.requeue_dependency,
            "no_cross_namespace_refs": self.no_cross_namespace_refs,
        }


CONTROLLERS: dict[str, Callable[[Manager, ControllerOptions], object]] = {
    "source": lambda manager, options: source.setup(manager, options.source),
    "kustomize": lambda manager, options: kustomize_setup.setup(
        manager,
        **options.dependents(),
        artifact_max_unpacked_size=options.artifact_max_unpacked_size,
        no_remote_bases=options.no_remote_bases,
    ),
    "helm": lambda manager, options: helm_setup.setup(
        manager,
        **options.dependents(),
        workload_identity=features.OBJECT_LEVEL_WORKLOAD_IDENTITY in options.feature_gates,
        kube_api_qps=options.kube_api_qps,
        kube_api_burst=options.kube_api_burst,
    ),
    "notification": lambda manager, options: notification.setup(
        manager,
        receiver=options.receiver,
        no_cross_namespace_refs=options.no_cross_namespace_refs,
        dispatch=options.notification,
        events_addr=options.events_addr,
    ),
    "image-reflector": lambda manager, options: image_setup.setup(
        manager,
        storage_path=options.source.storage_path,
        registry_rps=options.registry_rps,
        no_cross_namespace_refs=options.no_cross_namespace_refs,
    ),
    "image-automation": lambda manager, options: image_automation.setup(
        manager, no_cross_namespace_refs=options.no_cross_namespace_refs
    ),
}
"""Controllers by name, as ``--controllers`` takes them; each controller package adds one."""

Option = typer.Option


def run(
    controllers: Annotated[str, Option(help="Controllers to run, comma-separated.")] = ",".join(
        CONTROLLERS
    ),
    kubeconfig: Annotated[Path | None, Option(help="Kubeconfig file.")] = None,
    context: Annotated[str | None, Option(help="Kubeconfig context to use.")] = None,
    metrics_addr: Annotated[str, Option(help="Where /metrics listens.")] = ":8080",
    health_addr: Annotated[str, Option(help="Where /healthz and /readyz listen.")] = ":9440",
    concurrent: Annotated[int, Option(help="Concurrent reconciles per controller.")] = 4,
    enable_leader_election: Annotated[
        bool,
        Option(
            "--enable-leader-election/--disable-leader-election",
            help="Elect a leader before reconciling.",
        ),
    ] = True,
    leader_election_namespace: Annotated[
        str, Option(help="Namespace of the leader-election Lease.")
    ] = "tide-system",
    leader_election_lease_duration: Annotated[
        str, Option(help="How long a standby waits on an unrenewed Lease.")
    ] = "35s",
    leader_election_renew_deadline: Annotated[
        str, Option(help="How long the leader retries a renewal before giving up.")
    ] = "30s",
    leader_election_retry_period: Annotated[
        str, Option(help="How often to try to acquire or renew the Lease.")
    ] = "5s",
    storage_path: Annotated[Path, Option(help="Folder for artifacts and checkouts.")] = Path(
        "/data"
    ),
    storage_addr: Annotated[str, Option(help="Where the artifact server listens.")] = ":9090",
    storage_adv_addr: Annotated[
        str | None, Option(help="Address consumers download artifacts from.")
    ] = None,
    artifact_retention_records: Annotated[int, Option(help="Artifacts kept per object.")] = 2,
    default_service_account: Annotated[
        str | None,
        Option(help="ServiceAccount impersonated by Kustomizations/HelmReleases naming none."),
    ] = None,
    requeue_dependency: Annotated[
        str, Option(help="How often a Kustomization waiting on a dependency looks again.")
    ] = "30s",
    no_cross_namespace_refs: Annotated[
        bool,
        Option(
            "--no-cross-namespace-refs",
            help="Refuse references into another namespace (sourceRef, dependsOn, sources).",
        ),
    ] = False,
    artifact_max_unpacked_size: Annotated[
        int,
        Option(help="Most bytes an artifact may unpack to for a Kustomization; -1: no bound."),
    ] = artifacts.DEFAULT_MAX_UNPACKED_SIZE,
    no_remote_bases: Annotated[
        bool,
        Option(
            "--no-remote-bases",
            help="Refuse kustomizations that refer to remote bases (anything not in the artifact).",
        ),
    ] = False,
    receiver_addr: Annotated[
        str,
        Option(
            "--receiver-addr",
            "--receiverAddr",  # Flux's own spelling, so its Deployment arguments work unchanged
            help="Where Receiver webhooks are served.",
        ),
    ] = ":9292",
    registry_rps: Annotated[
        float,
        Option(help="Requests per second to each image registry host, shared; 0: no limit."),
    ] = image_setup.DEFAULT_RPS,
    events_addr: Annotated[
        str,
        Option(
            help="host:port: where the notification controller's events endpoint listens "
            "(default :9091; Flux's :9090 is the artifacts'); an http(s):// URL: POST every "
            "event to that notification controller, as Flux's other controllers do."
        ),
    ] = notification.DEFAULT_EVENTS_ADDR,
    rate_limit_interval: Annotated[
        str, Option(help="Drop an event identical to one sent within this interval.")
    ] = "5m",
    cluster_name: Annotated[
        str, Option(help="Added to every notification's metadata as 'cluster'.")
    ] = "",
    watch_label_selector: Annotated[
        str,
        Option(
            help="Reconcile only objects this label selector picks, e.g. "
            "'sharding.fluxcd.io/key in (shard1)'; the Lease name then names the shard."
        ),
    ] = "",
    watch_all_namespaces: Annotated[
        bool,
        Option(
            "--watch-all-namespaces/--no-watch-all-namespaces",
            help="Watch every namespace; false: only the one in $RUNTIME_NAMESPACE.",
        ),
    ] = True,
    feature_gates: Annotated[
        str,
        Option(
            help="Feature gates to turn on or off, Name=true|false, comma-separated; known: "
            + ", ".join(sorted(features.GATES))
            + " (all off by default)."
        ),
    ] = "",
    kube_api_qps: Annotated[
        float, Option(help="Requests per second of Helm's Kubernetes client, per namespace.")
    ] = helm_sdk.DEFAULT_QPS,
    kube_api_burst: Annotated[
        int, Option(help="Requests Helm's Kubernetes client may send back to back.")
    ] = helm_sdk.DEFAULT_BURST,
    log_level: Annotated[str, Option(help="debug, info, warning or error.")] = "info",
    log_file: Annotated[
        Path | None, Option(help="Also append JSON log lines here (for `tide logs --log-file`).")
    ] = None,
) -> None:
    """Run Tide's controllers until SIGTERM or Ctrl-C."""
    logs.configure(log_level, log_file=log_file)
    chosen = [name.strip() for name in controllers.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(CONTROLLERS))
    if unknown or not chosen:
        raise typer.BadParameter(
            f"unknown controller(s) {', '.join(unknown) or '(none given)'}; "
            f"available: {', '.join(CONTROLLERS)}",
            param_hint="--controllers",
        )
    try:
        options = ManagerOptions(
            metrics=parse_address(metrics_addr),
            health=parse_address(health_addr),
            leader_election=enable_leader_election,
            lease_namespace=leader_election_namespace,
            lease_duration=parse_duration(leader_election_lease_duration),
            renew_deadline=parse_duration(leader_election_renew_deadline),
            retry_period=parse_duration(leader_election_retry_period),
            workers=concurrent,
            watch_label_selector=watch_label_selector,
            lease_name=_lease_name(chosen),
            watch_namespace=None if watch_all_namespaces else _runtime_namespace(),
        )
        try:
            parse_selector(watch_label_selector)
        except ValueError as error:
            raise ValueError(f"--watch-label-selector: {error}") from error
        if enable_leader_election:  # refuse timings that cannot work before connecting anywhere
            LeaseConfig(
                namespace=leader_election_namespace,
                name="check",
                identity="check",
                lease_duration=options.lease_duration,
                renew_deadline=options.renew_deadline,
                retry_period=options.retry_period,
            )
        storage = parse_address(storage_addr)
        receiver = parse_address(receiver_addr)
        dependency_requeue = parse_duration(requeue_dependency)
        unpacked_limit = _size_limit(artifact_max_unpacked_size, "--artifact-max-unpacked-size")
        events, forward_to = _events(events_addr, notify_here="notification" in chosen)
        gates = features.parse_feature_gates(feature_gates)
        if kube_api_qps <= 0 or kube_api_burst < 1:
            raise ValueError(
                f"--kube-api-qps {kube_api_qps:g} / --kube-api-burst {kube_api_burst}: "
                "expected a rate above 0 and a burst of 1 or more"
            )
        if registry_rps < 0:
            raise ValueError(f"--registry-rps {registry_rps}: expected 0 (no limit) or more")
        dispatch = notification.DispatchOptions(
            rate_limit_interval=parse_duration(rate_limit_interval),
            cluster_name=cluster_name,
            no_cross_namespace_refs=no_cross_namespace_refs,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    advertised = storage_adv_addr
    if advertised and "://" not in advertised:
        advertised = f"http://{advertised}"
    source_options = source.SourceOptions(
        storage_path=storage_path,
        storage_host=storage.host,
        storage_port=storage.port,
        advertised_url=advertised,
        retention=artifact_retention_records,
        no_cross_namespace_refs=no_cross_namespace_refs,
    )
    controller_options = ControllerOptions(
        source_options,
        default_service_account=default_service_account,
        requeue_dependency=dependency_requeue,
        no_cross_namespace_refs=no_cross_namespace_refs,
        artifact_max_unpacked_size=unpacked_limit,
        no_remote_bases=no_remote_bases,
        receiver=receiver,
        registry_rps=registry_rps,
        notification=dispatch,
        events_addr=events,
        forward_events_to=forward_to,
        feature_gates=gates,
        kube_api_qps=kube_api_qps,
        kube_api_burst=kube_api_burst,
    )
    try:
        asyncio.run(_serve(chosen, kubeconfig, context, options, controller_options))
    except LeadershipLost as error:
        typer.echo(f"tide: {error}; exiting so a new leader can take over", err=True)
        raise typer.Exit(1) from error
    except (CacheSyncTimeout, CannotListen, KubeError, artifacts.StorageError) as error:
        typer.echo(f"tide: {error}", err=True)
        raise typer.Exit(1) from error


def _runtime_namespace() -> str:
    """Return the namespace ``--watch-all-namespaces=false`` confines the controllers to."""
    namespace = os.environ.get("RUNTIME_NAMESPACE", "").strip()
    if not namespace:
        raise ValueError(
            "--watch-all-namespaces=false: set RUNTIME_NAMESPACE to the namespace to watch"
        )
    return namespace


def _lease_name(chosen: list[str]) -> str:
    """Name the Lease after the controllers run, so one Deployment per component (as
    ``tide install`` makes them) elects a leader per component instead of one for them all.
    """
    if set(chosen) == set(CONTROLLERS):
        return ManagerOptions.lease_name
    return "tide-" + "-".join(name for name in CONTROLLERS if name in chosen) + "-leader-election"


def _events(value: str, *, notify_here: bool) -> tuple[Endpoint, str | None]:
    """Read ``--events-addr`` as Flux's controllers do: a URL to send events to, or an address.

    Returns where the events endpoint listens and the URL events are forwarded to. With the
    notification controller in this process events reach it in process, so a URL is not used
    (the endpoint then listens on the default address).
    """
    if not value.startswith(("http://", "https://")):
        return parse_address(value), None
    if not urlsplit(value).hostname:
        raise ValueError(f"--events-addr {value!r}: the URL names no host")
    endpoint = parse_address(notification.DEFAULT_EVENTS_ADDR)
    if notify_here:
        log.info("--events-addr is a URL, but the notification controller runs here: "
                 "events are dispatched in process")  # fmt: skip
        return endpoint, None
    return endpoint, value


def _size_limit(value: int, flag: str) -> int | None:
    """Read a byte bound: positive, or -1 for none (Flux's convention for unbounded sizes)."""
    if value == -1:
        return None
    if value <= 0:
        raise ValueError(f"{flag} must be a positive number of bytes, or -1 for no bound")
    return value


async def _serve(
    chosen: list[str],
    kubeconfig: Path | None,
    context: str | None,
    options: ManagerOptions,
    controller_options: ControllerOptions,
) -> None:
    client = KubeClient.from_kubeconfig(kubeconfig, context=context, field_manager="tide")
    manager = Manager(client, options)
    for name in chosen:
        CONTROLLERS[name](manager, controller_options)
    if controller_options.forward_events_to is not None:
        forwarder = EventForwarder(controller_options.forward_events_to)
        manager.add_event_sink(forwarder.submit)
        manager.add_service(forwarder.start, forwarder.stop)
    manager.install_signal_handlers()
    try:
        await manager.run()
    finally:
        await client.close()

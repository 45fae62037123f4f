"""``tide create``: write a Flux object from flags, apply it and wait — or ``--export`` it.

The commands and flags are Flux's: ``create source git|helm|oci``, ``create kustomization``,
``create helmrelease``, ``create alert-provider``, ``create alert``, ``create receiver`` (and
``create image …`` in :mod:`tide.cli.create_image`, using :func:`creates`). The
object is checked against Tide's model of the kind before anything is sent, so a bad flag is
named at once; then it is server-side applied (field manager ``tide``) and, for kinds with a
status, the command waits for its first Ready verdict. ``--export`` prints the YAML instead,
to commit to Git. References take Flux's form ``Kind/name`` or ``Kind/name.namespace``.
(Secrets: :mod:`tide.cli.create_secret`.)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
import typer
import yaml

from tide.api.kinds import find_kind
from tide.cli._session import (
    ClusterOptions,
    cluster_command,
    err,
    keyword_option,
    print_yaml,
    run_command,
    with_parameters,
)
from tide.cli.operate import wait_handled
from tide.kube.resources import resource_type

__all__ = ["Interval", "Name", "SecretRef", "app", "creates", "parse_depends_on", "parse_reference"]

app = typer.Typer(help="Create or update Flux objects.", no_args_is_help=True)
source_app = typer.Typer(help="Create or update sources.", no_args_is_help=True)
app.add_typer(source_app, name="source")

Name = Annotated[str, typer.Argument(help="The object's name.")]
Export = Annotated[bool, typer.Option("--export", help="Print the YAML instead of applying it.")]
Interval = Annotated[str, typer.Option("--interval", help="How often to reconcile.")]
Labels = Annotated[
    list[str] | None, typer.Option("--label", help="A label key=value (repeatable).")
]
SecretRef = Annotated[
    str | None, typer.Option("--secret-ref", help="Name of the Secret with credentials.")
]
Url = Annotated[str, typer.Option("--url", help="The source's URL.")]


def parse_reference(text: str, *, default_kind: str, what: str) -> dict[str, str]:
    """Parse Flux's ``Kind/name`` or ``Kind/name.namespace`` (or a bare name of ``default_kind``).

    Raises:
        typer.BadParameter: an empty part.
    """
    kind, slash, rest = text.partition("/")
    if not slash:
        kind, rest = default_kind, text
    name, dot, namespace = rest.partition(".")
    if not kind or not name or (dot and not namespace):
        raise typer.BadParameter(f"expected Kind/name or Kind/name.namespace, got {text!r}",
                                 param_hint=what)  # fmt: skip
    ref = {"kind": kind, "name": name}
    if namespace:
        ref["namespace"] = namespace
    return ref


def parse_depends_on(texts: list[str]) -> list[dict[str, str]]:
    """Parse Flux's ``--depends-on``: ``<name>`` or ``<namespace>/<name>``, comma-separated.

    Raises:
        typer.BadParameter: an empty name or namespace.
    """
    entries = []
    for text in texts:
        for item in filter(None, (part.strip() for part in text.split(","))):
            namespace, slash, name = item.rpartition("/")
            if not name or (slash and not namespace):
                expected = f"expected <name> or <namespace>/<name>, got {item!r}"
                raise typer.BadParameter(expected, param_hint="--depends-on")
            entries.append({"name": name, **({"namespace": namespace} if namespace else {})})
    return entries


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose flag was given: a flag left out writes no field (Flux's omitempty)."""
    return {key: value for key, value in fields.items() if value}


def _named(name: str | None) -> dict[str, str] | None:
    """A ``LocalObjectReference`` to ``name``, or None without one."""
    return {"name": name} if name else None


def _labels(pairs: list[str] | None) -> dict[str, str]:
    labels = {}
    for pair in pairs or ():
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint="--label")
        labels[key] = value
    return labels


def _document(
    api_version: str, kind: str, name: str, namespace: str, spec: Mapping[str, Any], labels: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    document = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": dict(spec)}
    info = find_kind(api_version, kind)
    try:
        info.model.model_validate(document)
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
            if e["loc"] and e["loc"][0] == "spec" else e["msg"]
            for e in error.errors()
        )  # fmt: skip
        raise typer.BadParameter(f"invalid {kind} '{namespace}/{name}': {problems}") from None
    return document


async def _apply(document: dict[str, Any], options: ClusterOptions) -> None:
    kind = document["kind"]
    name, namespace = document["metadata"]["name"], document["metadata"]["namespace"]
    info = find_kind(document["apiVersion"], kind)
    async with options.client() as client:
        err.print(f"► applying {kind} {name} in {namespace} namespace")
        await client.apply(resource_type(kind), document)
        err.print(f"[green]✔[/] {kind} created")
        if info.has_status:
            await wait_handled(client, kind, name, namespace, None, options.timeout)
            err.print(f"[green]✔[/] {kind} {name} is ready")


def _finish(document: dict[str, Any], export: bool, options: ClusterOptions) -> None:
    if export:
        print_yaml(document)
        return
    run_command(_apply(document, options))


def creates(api_version: str, kind: str) -> Callable[[Callable[..., Any]], Any]:
    """Make a ``create`` command of a function that turns its flags into a ``kind``'s spec.

    The command also takes the cluster flags, ``--label`` and ``--export``; it checks the
    object, then applies it and waits, or prints it.
    """

    def decorate(build_spec: Callable[..., dict[str, Any]]) -> Any:
        def command(
            *, options: ClusterOptions, labels: dict[str, str], export: bool, **flags: Any
        ) -> None:
            spec = build_spec(**flags)
            namespace = options.namespace
            document = _document(api_version, kind, flags["name"], namespace, spec, labels)
            _finish(document, export, options)

        signature = inspect.signature(build_spec, eval_str=True)
        command.__signature__ = signature.replace(return_annotation=None)  # type: ignore[attr-defined]
        command.__doc__ = build_spec.__doc__
        flags = [keyword_option("label", Labels, None), keyword_option("export", Export, False)]

        def collect(values: dict[str, Any]) -> dict[str, Any]:
            return {"labels": _labels(values["label"]), "export": values["export"]}

        with_flags = with_parameters(command, flags, collect, provides=("labels", "export"))
        return cluster_command(with_flags, timeout="5m")

    return decorate


@source_app.command("git")
@creates("source.toolkit.fluxcd.io/v1", "GitRepository")
def source_git(
    name: Name,
    url: Url,
    branch: Annotated[str | None, typer.Option(help="Git branch.")] = None,
    tag: Annotated[str | None, typer.Option(help="Git tag.")] = None,
    tag_semver: Annotated[str | None, typer.Option("--tag-semver", help="Semver range.")] = None,
    commit: Annotated[str | None, typer.Option(help="Git commit sha.")] = None,
    ignore_paths: Annotated[
        list[str] | None, typer.Option("--ignore-paths", help="Paths to leave out (repeatable).")
    ] = None,
    secret_ref: SecretRef = None,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update a GitRepository."""
    ref = _present({"branch": branch, "tag": tag, "semver": tag_semver, "commit": commit})
    return {
        "url": url,
        "interval": interval,
        "ref": ref or {"branch": "master"},
        **_present({"secretRef": _named(secret_ref), "ignore": "\n".join(ignore_paths or ())}),
    }


@source_app.command("helm")
@creates("source.toolkit.fluxcd.io/v1", "HelmRepository")
def source_helm(
    name: Name,
    url: Url,
    secret_ref: SecretRef = None,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update a HelmRepository (an ``oci://`` URL makes an OCI one)."""
    kind = "oci" if url.startswith("oci://") else None
    return {"url": url, "interval": interval,
            **_present({"type": kind, "secretRef": _named(secret_ref)})}  # fmt: skip


@source_app.command("oci")
@creates("source.toolkit.fluxcd.io/v1", "OCIRepository")
def source_oci(
    name: Name,
    url: Url,
    tag: Annotated[str | None, typer.Option(help="Artifact tag.")] = None,
    tag_semver: Annotated[str | None, typer.Option("--tag-semver", help="Semver range.")] = None,
    digest: Annotated[str | None, typer.Option(help="Artifact digest.")] = None,
    secret_ref: SecretRef = None,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update an OCIRepository."""
    ref = _present({"tag": tag, "semver": tag_semver, "digest": digest})
    return {"url": url, "interval": interval, "ref": ref or {"tag": "latest"},
            **_present({"secretRef": _named(secret_ref)})}  # fmt: skip


@app.command("kustomization")
@creates("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
def kustomization(
    name: Name,
    source: Annotated[str, typer.Option("--source", help="Kind/name[.namespace] of the source.")],
    path: Annotated[str, typer.Option("--path", help="Folder in the source.")] = "./",
    prune: Annotated[bool, typer.Option("--prune", help="Delete what leaves the source.")] = False,
    depends_on: Annotated[
        list[str] | None,
        typer.Option("--depends-on", help="[namespace/]name, comma-separated or repeated."),
    ] = None,
    target_namespace: Annotated[str | None, typer.Option("--target-namespace")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for every object to be ready.")
    ] = False,
    health_check_timeout: Annotated[str | None, typer.Option("--health-check-timeout")] = None,
    service_account: Annotated[str | None, typer.Option("--service-account")] = None,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update a Kustomization."""
    return {
        "interval": interval,
        "path": path,
        "prune": prune,
        "sourceRef": parse_reference(source, default_kind="GitRepository", what="--source"),
        **_present({
            "targetNamespace": target_namespace,
            "timeout": health_check_timeout,
            "serviceAccountName": service_account,
            "wait": wait,
            "dependsOn": parse_depends_on(depends_on or []),
        }),
    }  # fmt: skip


@app.command("helmrelease")
@creates("helm.toolkit.fluxcd.io/v2", "HelmRelease")
def helmrelease(
    name: Name,
    source: Annotated[str, typer.Option("--source", help="HelmRepository/name[.namespace].")],
    chart: Annotated[str, typer.Option("--chart", help="Chart name (or path in a Git source).")],
    chart_version: Annotated[str | None, typer.Option("--chart-version")] = None,
    target_namespace: Annotated[str | None, typer.Option("--target-namespace")] = None,
    create_target_namespace: Annotated[bool, typer.Option("--create-target-namespace")] = False,
    values: Annotated[
        list[Path] | None, typer.Option("--values", help="Values file (repeatable, merged).")
    ] = None,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update a HelmRelease."""
    chart_spec: dict[str, Any] = {
        "chart": chart,
        "sourceRef": parse_reference(source, default_kind="HelmRepository", what="--source"),
        **_present({"version": chart_version}),
    }
    install = {"createNamespace": True} if create_target_namespace else None
    spec: dict[str, Any] = {
        "interval": interval,
        "chart": {"spec": chart_spec},
        **_present({"targetNamespace": target_namespace, "install": install}),
    }
    merged: dict[str, Any] = {}
    for file in values or ():
        try:
            loaded = yaml.safe_load(file.read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise typer.BadParameter(f"{file}: {error}", param_hint="--values") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter(f"{file}: not a YAML map", param_hint="--values")
        merged.update(loaded)
    if merged:
        spec["values"] = merged
    return spec


@app.command("alert-provider")
@creates("notification.toolkit.fluxcd.io/v1beta3", "Provider")
def alert_provider(
    name: Name,
    type_: Annotated[str, typer.Option("--type", help="Provider type, e.g. slack, generic.")],
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    username: Annotated[str | None, typer.Option("--username")] = None,
    secret_ref: SecretRef = None,
) -> dict[str, Any]:
    """Create or update an alert Provider."""
    optional = {"channel": channel, "address": address, "username": username,
                "secretRef": _named(secret_ref)}  # fmt: skip
    return {"type": type_, **_present(optional)}


def _event_sources(texts: list[str], what: str) -> list[dict[str, str]]:
    return [parse_reference(text, default_kind="", what=what) for text in texts]


@app.command("alert")
@creates("notification.toolkit.fluxcd.io/v1beta3", "Alert")
def alert(
    name: Name,
    provider_ref: Annotated[str, typer.Option("--provider-ref", help="The Provider's name.")],
    event_source: Annotated[
        list[str], typer.Option("--event-source", help="Kind/name[.namespace] (repeatable).")
    ],
    event_severity: Annotated[
        str, typer.Option("--event-severity", help="info or error.")
    ] = "info",
) -> dict[str, Any]:
    """Create or update an Alert."""
    return {
        "providerRef": {"name": provider_ref},
        "eventSeverity": event_severity,
        "eventSources": _event_sources(event_source, "--event-source"),
    }


@app.command("receiver")
@creates("notification.toolkit.fluxcd.io/v1", "Receiver")
def receiver(
    name: Name,
    type_: Annotated[str, typer.Option("--type", help="Receiver type, e.g. github, generic.")],
    secret_ref: Annotated[str, typer.Option("--secret-ref", help="Secret with the token.")],
    resource: Annotated[
        list[str],
        typer.Option("--resource", help="Kind/name[.namespace] to reconcile (repeatable)."),
    ],
    event: Annotated[
        list[str] | None, typer.Option("--event", help="Event type to act on (repeatable).")
    ] = None,
) -> dict[str, Any]:
    """Create or update a Receiver (its webhook path appears in status.webhookPath)."""
    return {
        "type": type_,
        "secretRef": {"name": secret_ref},
        "resources": _event_sources(resource, "--resource"),
        **_present({"events": list(event or ())}),
    }

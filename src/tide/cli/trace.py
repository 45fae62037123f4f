"""``tide trace KIND NAME -n NS``: which Flux object manages an object, and from which source.

Follows the owner labels the controllers put on what they apply
(``kustomize.toolkit.fluxcd.io/name|namespace``, ``helm.toolkit.fluxcd.io/name|namespace``) from
the object up to its Kustomization or HelmRelease, then to that object's source (a HelmRelease's
HelmChart and the chart's source), and prints each with its revision and Ready message, as
``flux trace`` does. A HelmRelease that a Kustomization applied is traced on up to that
Kustomization. KIND is the object's kind (``deployment``, ``Service``, a plural or short name
also works); ``--api-version`` picks the group when a kind name is served by more than one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from tide.api.conditions import getter
from tide.cli._session import ClusterOptions, CommandError, cluster_command, out, run_command
from tide.kube.client import KubeClient
from tide.kube.discovery import parse_resource_list
from tide.kube.errors import KubeError
from tide.kube.resources import ResourceType, resource_type

__all__ = ["blocks", "find_resource", "run"]

_OWNERS = (
    ("Kustomization", "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"),
    ("HelmRelease", "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"),
)


async def find_resource(client: KubeClient, word: str, api_version: str | None) -> ResourceType:
    """Return the resource type a user's ``word`` names (kind, plural, singular or short name).

    Raises:
        CommandError: no served resource has that name, or more than one (use --api-version).
    """
    if api_version:
        try:
            document = await client.get_json(
                f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            )
        except KubeError as error:
            raise CommandError(f"--api-version {api_version}: {error}") from None
        versions = [(api_version, document)]
    else:
        versions = [("v1", await client.get_json("/api/v1"))]
        for group in (await client.get_json("/apis")).get("groups") or ():
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if not preferred:
                continue
            try:
                versions.append((preferred, await client.get_json(f"/apis/{preferred}")))
            except KubeError:  # an aggregated API that is down (metrics.k8s.io …), as kubectl
                continue
    wanted = word.lower()
    found: list[ResourceType] = []
    for version, document in versions:
        types = parse_resource_list(version, document)
        for resource in document.get("resources") or ():
            names = {
                str(resource.get("kind", "")).lower(),
                str(resource.get("name", "")),
                str(resource.get("singularName", "")),
                *(resource.get("shortNames") or ()),
            }
            kind = resource.get("kind")
            if "/" not in str(resource.get("name", "")) and wanted in names and kind in types:
                found.append(types[kind])
    if not found:
        raise CommandError(f"the server serves no resource named '{word}'")
    if len({(rt.group, rt.kind) for rt in found}) > 1:
        groups = ", ".join(sorted(rt.api_version for rt in found))
        raise CommandError(f"'{word}' is served by {groups}: pick one with --api-version")
    return found[0]


def _block(title: str, obj: Mapping[str, Any], fields: list[tuple[str, str]]) -> list[str]:
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    ready = getter.find(status, "Ready") or {}
    lines = [
        f"{title + ':':<15}{metadata.get('name')}",
        f"{'Namespace:':<15}{metadata.get('namespace')}",
    ]
    lines += [f"{label + ':':<15}{value}" for label, value in fields if value]
    handled = status.get("lastHandledReconcileAt") or ready.get("lastTransitionTime") or ""
    state = (
        "Suspended"
        if (obj.get("spec") or {}).get("suspend")
        else (f"Last reconciled at {handled}" if handled else "Not reconciled yet")
    )
    lines.append(f"{'Status:':<15}{state}")
    if ready.get("message"):
        lines.append(f"{'Message:':<15}{' '.join(str(ready['message']).split())}")
    return lines


def _source_fields(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    ref = spec.get("ref") or {}
    return [
        ("URL", str(spec.get("url", ""))),
        ("Branch", str(ref.get("branch", ""))),
        ("Tag", str(ref.get("tag", ""))),
        ("Chart", str(spec.get("chart", ""))),
        ("Version", str(spec.get("version", ""))),
        ("Revision", str((obj.get("status") or {}).get("artifact", {}).get("revision", ""))),
    ]


async def blocks(client: KubeClient, obj: Mapping[str, Any], rt: ResourceType) -> list[list[str]]:
    """Return ``flux trace``'s blocks for ``obj``: itself, then each Flux object up its chain."""
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    managed = any(name_key in labels for _, name_key, _ in _OWNERS)
    result = [[
        f"{'Object:':<15}{rt.kind}/{metadata.get('name')}",
        *([f"{'Namespace:':<15}{metadata['namespace']}"] if metadata.get("namespace") else []),
        f"{'Status:':<15}{'Managed by Flux' if managed else 'Not managed by Flux'}",
    ]]  # fmt: skip
    current: Mapping[str, Any] | None = obj
    seen: set[tuple[str, str, str]] = set()
    while current is not None:
        owner = _owner(current)
        if owner is None or owner in seen:
            break
        seen.add(owner)
        kind, name, namespace = owner
        found = await client.get_or_none(resource_type(kind), name, namespace=namespace)
        if found is None:
            result.append([f"{kind + ':':<15}{name}", f"{'Namespace:':<15}{namespace}",
                           f"{'Status:':<15}not found"])  # fmt: skip
            break
        result.extend(await _with_sources(client, kind, found))
        current = found
    return result


def _owner(obj: Mapping[str, Any]) -> tuple[str, str, str] | None:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for kind, name_key, namespace_key in _OWNERS:
        if labels.get(name_key):
            return kind, labels[name_key], labels.get(namespace_key) or "default"
    return None


async def _with_sources(client: KubeClient, kind: str, obj: Mapping[str, Any]) -> list[list[str]]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    namespace = obj["metadata"]["namespace"]
    if kind == "Kustomization":
        own = _block(kind, obj, [
            ("Path", str(spec.get("path", ""))),
            ("Revision", str(status.get("lastAppliedRevision", ""))),
        ])  # fmt: skip
        refs = [spec.get("sourceRef") or {}]
    else:
        history = status.get("history") or [{}]
        own = _block(kind, obj, [("Revision", str(history[0].get("chartVersion", "")))])
        if spec.get("chartRef"):
            refs = [spec["chartRef"]]
        else:
            chart_source = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or {}
            chart_namespace = chart_source.get("namespace") or namespace
            refs = [{"kind": "HelmChart", "name": f"{namespace}-{obj['metadata']['name']}",
                     "namespace": chart_namespace}, chart_source]  # fmt: skip
    found_blocks = [own]
    for ref in refs:
        if not ref.get("kind") or not ref.get("name"):
            continue
        try:
            rt = resource_type(ref["kind"])
        except KeyError:
            continue
        source = await client.get_or_none(
            rt, ref["name"], namespace=ref.get("namespace") or namespace
        )
        if source is not None:
            found_blocks.append(_block(ref["kind"], source, _source_fields(source)))
    return found_blocks


async def _trace(word: str, name: str, api_version: str | None, options: ClusterOptions) -> None:
    async with options.client() as client:
        rt = await find_resource(client, word, api_version)
        obj = await client.get_or_none(
            rt, name, namespace=options.namespace if rt.namespaced else None
        )
        if obj is None:
            where = f' in "{options.namespace}" namespace' if rt.namespaced else ""
            raise CommandError(f'{rt.kind} "{name}" not found{where}')
        traced = await blocks(client, obj, rt)
    out.print("\n---\n".join("\n".join(block) for block in traced), markup=False, soft_wrap=True)


@cluster_command
def run(
    options: ClusterOptions,
    kind: Annotated[str, typer.Argument(help="The object's kind, e.g. deployment.")],
    name: Annotated[str, typer.Argument(help="The object's name.")],
    api_version: Annotated[
        str | None, typer.Option("--api-version", help="The kind's group/version, e.g. apps/v1.")
    ] = None,
) -> None:
    """Show which Flux object manages an object, and the source and revision it came from."""
    run_command(_trace(kind, name, api_version, options))

"""``tide build kustomization NAME --path DIR``: print what the controller would apply.

The Kustomization is read from the cluster (or from ``--kustomization-file``) and DIR is built
through the controller's own code (:mod:`tide.inspect.local_build`), so the output is the
controller's: spec transforms, ``postBuild`` substitution and owner labels included. With
``--dry-run`` nothing is asked of the cluster: the Kustomization comes from the file and only
inline ``postBuild.substitute`` variables apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from tide import yamlio
from tide.cli._session import ClusterOptions, CommandError, cluster_command, out, run_command
from tide.inspect.local_build import build_folder, parse_kustomization
from tide.kube.resources import resource_type

__all__ = ["app", "read_kustomization"]

app = typer.Typer(
    help="Build a Flux object locally, as its controller would.", no_args_is_help=True
)

PathOption = Annotated[
    Path, typer.Option("--path", help="The local folder standing for spec.path.")
]
FileOption = Annotated[
    Path | None,
    typer.Option("--kustomization-file", help="Read the Kustomization from this YAML file."),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Do not contact the cluster (needs --kustomization-file).")
]


def read_kustomization(path: Path, name: str) -> dict:
    """Return the Kustomization named ``name`` from a YAML file (the first one when unnamed).

    Raises:
        CommandError: the file is unreadable, not YAML, or holds no such Kustomization.
    """
    try:
        documents = [doc for doc in yamlio.load_all(path.read_text()) if isinstance(doc, dict)]
    except (OSError, yaml.YAMLError, ValueError) as error:
        raise CommandError(f"--kustomization-file '{path}': {error}") from None
    for doc in documents:
        if doc.get("kind") == "Kustomization" and (doc.get("metadata") or {}).get("name") == name:
            return doc
    raise CommandError(f"--kustomization-file '{path}' holds no Kustomization named '{name}'")


def _masked(obj: dict) -> dict:
    """``obj`` with a Secret's values replaced by ``***``: credentials never reach the output."""
    if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1":
        return obj
    shown = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(shown.get(key), dict):
            shown[key] = dict.fromkeys(shown[key], "***")
    return shown


async def _build(
    name: str, folder: Path, file: Path | None, dry_run: bool, options: ClusterOptions
) -> None:
    if dry_run:
        if file is None:
            raise CommandError("--dry-run needs --kustomization-file: there is no cluster to ask")
        obj = read_kustomization(file, name)
        obj.setdefault("metadata", {}).setdefault("namespace", options.namespace)
        objects = await build_folder(parse_kustomization(obj), folder, client=None)
    else:
        async with options.client() as client:
            if file is not None:
                obj = read_kustomization(file, name)
                obj.setdefault("metadata", {}).setdefault("namespace", options.namespace)
            else:
                found = await client.get_or_none(
                    resource_type("Kustomization"), name, namespace=options.namespace
                )
                if found is None:
                    raise CommandError(
                        f'Kustomization "{name}" not found in "{options.namespace}" namespace'
                    )
                obj = found
            objects = await build_folder(parse_kustomization(obj), folder, client=client)
    text = "---\n".join(yaml.safe_dump(_masked(obj), sort_keys=False) for obj in objects)
    out.print(text, markup=False, highlight=False, end="", soft_wrap=True)


@app.command("kustomization")
@cluster_command
def kustomization(
    options: ClusterOptions,
    name: Annotated[str, typer.Argument(help="The Kustomization's name.")],
    path: PathOption,
    kustomization_file: FileOption = None,
    dry_run: DryRun = False,
) -> None:
    """Build a Kustomization from a local folder and print the objects it would apply."""
    run_command(_build(name, path, kustomization_file, dry_run, options))


app.command("ks", hidden=True)(kustomization)

"""``tide create image repository|policy|update``: the image automation objects, from Flux's flags.

Each command turns ``flux create image …``'s flags into the kind's spec; :func:`creates` does the
rest as for every ``create`` (check against the model, apply and wait, or ``--export``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tide.cli.create import Interval, Name, SecretRef, creates

__all__ = ["app", "policy", "repository", "update"]

app = typer.Typer(help="Create or update image automation objects.", no_args_is_help=True)

_IMAGE = "image.toolkit.fluxcd.io/v1"
_ORDERS = ("asc", "desc")


@app.command("repository")
@creates(_IMAGE, "ImageRepository")
def repository(
    name: Name,
    image: Annotated[str, typer.Option("--image", help="The image to scan, e.g. ghcr.io/org/app.")],
    secret_ref: SecretRef = None,
    cert_secret_ref: Annotated[
        str | None, typer.Option("--cert-secret-ref", help="Secret with TLS certificates.")
    ] = None,
    scan_timeout: Annotated[
        str | None, typer.Option("--scan-timeout", help="How long one scan may take.")
    ] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="Plain HTTP registry.")] = False,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update an ImageRepository."""
    spec: dict[str, Any] = {"image": image, "interval": interval}
    for key, value in (("secretRef", secret_ref), ("certSecretRef", cert_secret_ref)):
        if value:
            spec[key] = {"name": value}
    if scan_timeout:
        spec["timeout"] = scan_timeout
    if insecure:
        spec["insecure"] = True
    return spec


def _policy_choice(semver: str | None, numeric: str | None, alpha: str | None) -> dict:
    chosen = [flag for flag, value in (("--select-semver", semver), ("--select-numeric", numeric),
                                       ("--select-alpha", alpha)) if value]  # fmt: skip
    if len(chosen) != 1:
        raise typer.BadParameter(
            "give exactly one of --select-semver, --select-numeric, --select-alpha"
            + (f" (got {', '.join(chosen)})" if chosen else ""),
            param_hint="--select-semver",
        )
    if semver:
        return {"semver": {"range": semver}}
    flag, order, key = ("--select-numeric", numeric, "numerical") if numeric else (
        "--select-alpha", alpha, "alphabetical")  # fmt: skip
    if order not in _ORDERS:
        raise typer.BadParameter(f"expected asc or desc, got {order!r}", param_hint=flag)
    return {key: {"order": order}}


@app.command("policy")
@creates(_IMAGE, "ImagePolicy")
def policy(
    name: Name,
    image_ref: Annotated[
        str, typer.Option("--image-ref", help="The ImageRepository: [namespace/]name.")
    ],
    select_semver: Annotated[
        str | None, typer.Option("--select-semver", help="Semver range, e.g. '>=1.0.0'.")
    ] = None,
    select_numeric: Annotated[
        str | None, typer.Option("--select-numeric", help="asc or desc.")
    ] = None,
    select_alpha: Annotated[str | None, typer.Option("--select-alpha", help="asc or desc.")] = None,
    filter_regex: Annotated[
        str | None, typer.Option("--filter-regex", help="Only tags matching this regex.")
    ] = None,
    filter_extract: Annotated[
        str | None, typer.Option("--filter-extract", help="What to compare, e.g. '$ts'.")
    ] = None,
    reflect_digest: Annotated[
        str | None, typer.Option("--reflect-digest", help="Always, IfNotPresent or Never.")
    ] = None,
) -> dict[str, Any]:
    """Create or update an ImagePolicy."""
    namespace, _, repository_name = image_ref.rpartition("/")
    if not repository_name:
        raise typer.BadParameter(f"expected [namespace/]name, got {image_ref!r}",
                                 param_hint="--image-ref")  # fmt: skip
    ref = {"name": repository_name, **({"namespace": namespace} if namespace else {})}
    spec: dict[str, Any] = {
        "imageRepositoryRef": ref,
        "policy": _policy_choice(select_semver, select_numeric, select_alpha),
    }
    if filter_extract and not filter_regex:
        raise typer.BadParameter("needs --filter-regex", param_hint="--filter-extract")
    if filter_regex:
        spec["filterTags"] = {"pattern": filter_regex, **(
            {"extract": filter_extract} if filter_extract else {})}  # fmt: skip
    if reflect_digest:
        spec["digestReflectionPolicy"] = reflect_digest
    return spec


@app.command("update")
@creates(_IMAGE, "ImageUpdateAutomation")
def update(
    name: Name,
    git_repo_ref: Annotated[
        str, typer.Option("--git-repo-ref", help="The GitRepository to update.")
    ],
    author_email: Annotated[str, typer.Option("--author-email", help="The commits' author email.")],
    git_repo_namespace: Annotated[
        str | None, typer.Option("--git-repo-namespace", help="The GitRepository's namespace.")
    ] = None,
    git_repo_path: Annotated[
        str, typer.Option("--git-repo-path", "--update-path", help="Folder to update.")
    ] = "./",
    checkout_branch: Annotated[
        str | None, typer.Option("--checkout-branch", help="Branch to check out.")
    ] = None,
    push_branch: Annotated[
        str | None, typer.Option("--push-branch", help="Branch to push to (else the checkout's).")
    ] = None,
    author_name: Annotated[
        str, typer.Option("--author-name", help="The commits' author name.")
    ] = "Flux",
    commit_template: Annotated[
        str | None, typer.Option("--commit-template", help="Go template of the commit message.")
    ] = None,
    interval: Interval = "1m",
) -> dict[str, Any]:
    """Create or update an ImageUpdateAutomation."""
    source = {"kind": "GitRepository", "name": git_repo_ref}
    if git_repo_namespace:
        source["namespace"] = git_repo_namespace
    commit: dict[str, Any] = {"author": {"name": author_name, "email": author_email}}
    if commit_template:
        commit["messageTemplate"] = commit_template
    git: dict[str, Any] = {"commit": commit}
    if checkout_branch:
        git["checkout"] = {"ref": {"branch": checkout_branch}}
    if push_branch:
        git["push"] = {"branch": push_branch}
    return {
        "interval": interval,
        "sourceRef": source,
        "git": git,
        "update": {"strategy": "Setters", "path": git_repo_path},
    }

"""``tide bootstrap git``: make a cluster run Tide from a Git repository it then follows.

The flags are ``flux bootstrap git``'s: ``--url``, ``--branch``, ``--path``, HTTP(S) credentials
(``--username``/``--password``, ``--ca-file``) or an SSH key (``--private-key-file``), and every
install flag ``tide install`` takes. Only the generic ``git`` provider exists; ``bootstrap
github``/``gitlab`` (which create repositories and deploy keys through the hosts' APIs) do not.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Annotated

import typer

from tide.cli._install_flags import install_command
from tide.cli._options import Password, Username, read_file
from tide.cli._progress import say
from tide.cli._session import ClusterOptions, CommandError, run_command
from tide.image.automation.workspace import Author
from tide.install import (
    BootstrapError,
    BootstrapOptions,
    CredentialsError,
    GitCredentials,
    InstallError,
    InstallOptions,
    Verdict,
    bootstrap_git,
    normalise_path,
    public_key,
    render,
)
from tide.source.git.command import GitCommandError

__all__ = ["app", "git"]

app = typer.Typer(
    help="Deploy Tide on a cluster the GitOps way: from a Git repository.",
    no_args_is_help=True,
)


@app.command("git")
@install_command(timeout="5m")
def git(
    cluster: ClusterOptions,
    install: InstallOptions,
    url: Annotated[str, typer.Option("--url", help="Git repository URL (ssh:// or https://).")],
    branch: Annotated[str, typer.Option("--branch", help="Git branch.")] = "main",
    path: Annotated[
        str, typer.Option("--path", help="Folder in the repository the cluster applies.")
    ] = ".",
    username: Username = None,
    password: Password = None,
    private_key_file: Annotated[
        Path | None, typer.Option("--private-key-file", help="SSH private key (no passphrase).")
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option("--ca-file", help="CA certificate(s) of the HTTPS server.")
    ] = None,
    allow_insecure_http: Annotated[
        bool, typer.Option("--allow-insecure-http", help="Allow an http:// (unencrypted) URL.")
    ] = False,
    silent: Annotated[
        bool,
        typer.Option("--silent", "-s", help="Assume the SSH key has access; do not ask."),
    ] = False,
    secret_name: Annotated[
        str, typer.Option("--secret-name", help="Name of the credentials Secret.")
    ] = "flux-system",
    author_name: Annotated[str, typer.Option("--author-name", help="Commit author.")] = "Tide",
    author_email: Annotated[
        str, typer.Option("--author-email", help="Commit author's email.")
    ] = "tide@localhost",
) -> None:
    """Commit Tide's manifests to a Git repository, install Tide, and sync the cluster from it."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "http" and not allow_insecure_http:
        raise typer.BadParameter(
            "an http:// URL sends credentials and manifests unencrypted; "
            "use https:// or pass --allow-insecure-http",
            param_hint="--url",
        )
    # A token in the user part alone (https://TOKEN@host/…) would be committed in gotk-sync.yaml.
    if scheme in ("http", "https") and urllib.parse.urlsplit(url).username is not None:
        raise typer.BadParameter(
            "put credentials in --username/--password, not in the URL", param_hint="--url"
        )
    try:
        normalise_path(path)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--path") from None
    try:
        render(install)  # a bad component or namespace fails before Git or the cluster is touched
    except InstallError as error:
        say(Verdict.FAILED, str(error))
        raise typer.Exit(1) from None
    credentials = GitCredentials(
        username=username,
        password=password,
        private_key=read_file(private_key_file, "--private-key-file"),
        ca_cert=read_file(ca_file, "--ca-file"),
    )
    if credentials.private_key is not None and scheme == "ssh":
        _confirm_key(credentials.private_key, silent=silent)
    options = BootstrapOptions(
        url=url,
        branch=branch,
        path=path,
        install=install,
        credentials=credentials,
        author=Author(name=author_name, email=author_email),
        timeout=cluster.timeout,
        secret_name=secret_name,
    )
    run_command(_bootstrap(cluster, options))
    say(Verdict.OK, "bootstrap finished")


def _confirm_key(private_key: bytes, *, silent: bool) -> None:
    try:
        line = public_key(private_key)
    except CredentialsError as error:
        raise typer.BadParameter(str(error), param_hint="--private-key-file") from None
    say(Verdict.OK, f"public key: {line.strip()}")
    if not silent:
        typer.confirm("Please give the key access to your repository", abort=True, err=True)


async def _bootstrap(cluster: ClusterOptions, options: BootstrapOptions) -> str:
    async with cluster.client() as client:  # "tide", as tide install: one owner of the install
        try:
            return await bootstrap_git(client, options, report=say)
        except (BootstrapError, CredentialsError, GitCommandError, InstallError) as error:
            raise CommandError(str(error)) from None

"""``tide check``: can this cluster run Tide (``--pre``), and does Tide run here?

As ``flux check``: the prerequisites first (the Kubernetes version against Tide's minimum, the
API groups it uses), then, without ``--pre``, each controller Deployment (Available, its image
and version) and each CRD (Established). Every problem is its own ``✗`` line, and any problem
makes the exit code 1, so scripts and CI can gate on it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tide.cli._install_flags import Components, ComponentsExtra, parse_components
from tide.cli._progress import say
from tide.cli._session import ClusterOptions, CommandError, cluster_command, run_command
from tide.install import (
    DEFAULT_COMPONENTS,
    Finding,
    InstallError,
    InstallOptions,
    Verdict,
    check_installation,
    check_prerequisites,
)

__all__ = ["run"]

_DEFAULT_COMPONENTS = ",".join(DEFAULT_COMPONENTS)


@cluster_command
def run(
    options: ClusterOptions,
    pre: Annotated[
        bool, typer.Option("--pre", help="Only check the prerequisites, before installing.")
    ] = False,
    components: Components = _DEFAULT_COMPONENTS,
    components_extra: ComponentsExtra = "",
) -> None:
    """Check the prerequisites, and (without --pre) that Tide's controllers and CRDs serve."""
    install = InstallOptions(
        namespace=options.namespace,
        components=parse_components(components),
        components_extra=parse_components(components_extra),
    )
    if not run_command(_check(options, install, pre=pre)):
        raise typer.Exit(1)


async def _check(options: ClusterOptions, install: InstallOptions, *, pre: bool) -> bool:
    passed = True
    async with options.client() as client:
        say(Verdict.INFO, "checking prerequisites")
        passed &= _report(await check_prerequisites(client))
        if passed:
            say(Verdict.OK, "prerequisites checks passed")
        if not pre:
            say(Verdict.INFO, "checking controllers and CRDs")
            try:
                findings = await check_installation(client, install)
            except InstallError as error:
                raise CommandError(str(error)) from None
            passed &= _report(findings)
    say(Verdict.OK if passed else Verdict.FAILED, "all checks passed" if passed else "check failed")
    return passed


def _report(findings: list[Finding]) -> bool:
    for finding in findings:
        say(finding.verdict, finding.text)
    return all(finding.verdict is not Verdict.FAILED for finding in findings)

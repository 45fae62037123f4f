"""Charts from an OCI HelmRepository, through the Helm SDK's registry client.

The chart ``<name>`` of ``oci://host/path`` lives at ``oci://host/path/<name>``, one tag per
version (Helm writes ``+`` as ``_`` in tags). As in Flux's ``OCIChartRepository.Get``, a version
that is already an exact SemVer is pulled without listing tags; anything else is a range matched
against the listed tags, exact text first.

Credentials come from ``spec.secretRef``: ``username``/``password``, or a
``.dockerconfigjson`` entry for the registry host. They are handed to the SDK's login, which
keeps them in a credentials file private to this pull and deleted after it.

These functions block (the SDK is a C library); callers run them in a worker thread.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tide.api import reasons
from tide.semver import Constraint, Version
from tide.source.helm.build import BuildError
from tide.source.helm.remote import FetchError

__all__ = ["OCICredentials", "chart_reference", "credentials_from_secret", "pull_chart"]


@dataclass(frozen=True)
class OCICredentials:
    """Registry login for one host; ``repr`` hides the password."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"OCICredentials(username={self.username!r}, password=<hidden>)"


def chart_reference(url: str, chart: str) -> str:
    """Return ``oci://host/path/<chart>`` for a HelmRepository URL and a chart name."""
    return f"{url.rstrip('/')}/{chart}"


def credentials_from_secret(
    data: Mapping[str, bytes], *, host: str, where: str
) -> OCICredentials | None:
    """Read registry credentials from a Secret's (decoded) data.

    Raises:
        FetchError: (``AuthenticationFailed``) the Secret has neither usable form.
    """
    failed = reasons.AUTHENTICATION_FAILED
    if ".dockerconfigjson" in data:
        try:
            auths = json.loads(data[".dockerconfigjson"]).get("auths") or {}
        except (ValueError, AttributeError):
            raise FetchError(f"{where}: '.dockerconfigjson' is not JSON", reason=failed) from None
        entry = auths.get(host) or auths.get(f"https://{host}") or auths.get(f"http://{host}")
        if entry is None:
            raise FetchError(f"{where}: '.dockerconfigjson' has no entry for {host}", reason=failed)
        username, password = entry.get("username"), entry.get("password")
        if (not username or not password) and entry.get("auth"):
            username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        if not username or not password:
            raise FetchError(f"{where}: no credentials for {host}", reason=failed)
        return OCICredentials(username, password)
    username, password = data.get("username"), data.get("password")
    if username is None and password is None:
        return None
    if not username or not password:
        raise FetchError(
            f"invalid basic auth in {where}: keys 'username' and 'password' must both be set",
            reason=failed,
        )
    return OCICredentials(username.decode(), password.decode())


def pull_chart(
    reference: str,
    version: str,
    destination: Path,
    *,
    credentials: OCICredentials | None,
    plain_http: bool,
    skip: Callable[[str], bool] | None = None,
) -> tuple[str, Path | None]:
    """Resolve ``version`` against the registry and pull that chart into ``destination``.

    Args:
        reference: ``oci://host/path/<chart>``.
        version: an exact version, or a SemVer range (``*`` when empty).
        destination: folder for the pulled ``.tgz``.
        credentials: the registry login, if any.
        plain_http: talk HTTP instead of HTTPS (``spec.insecure``).
        skip: tells, given the resolved tag, whether the stored artifact already holds it;
            then nothing is pulled and the path is None.

    Returns:
        The resolved version and the pulled archive (None when ``skip`` matched).

    Raises:
        FetchError: (``AuthenticationFailed``) the registry refused the login.
        BuildError: (``ChartPullError``) listing tags, matching the range or pulling failed.
    """
    import helm_python as helm

    host = urlsplit(reference).netloc
    with tempfile.TemporaryDirectory(dir=destination, prefix="registry-") as scratch:
        options: dict[str, Any] = {
            "plain_http": plain_http,
            "credentials_file": Path(scratch) / "config.json",
        }
        with helm.RegistryClient(**options) as client:
            if credentials is not None:
                try:
                    client.login(
                        host, credentials.username, credentials.password, plain_http=plain_http
                    )
                except helm.HelmError as error:
                    raise FetchError(
                        f"failed to login to OCI registry {host}: {error}",
                        reason=reasons.AUTHENTICATION_FAILED,
                    ) from None
            try:
                tag = _resolve(client, reference, version)
                if skip is not None and skip(tag):
                    return tag, None
                client.pull(
                    reference,
                    version=tag,
                    destination=destination,
                    plain_http=plain_http,
                )
            except helm.HelmError as error:
                raise BuildError(
                    f"failed to pull '{reference}': {error}", reason=reasons.CHART_PULL_ERROR
                ) from None
    pulled = sorted(destination.glob("*.tgz"))
    if not pulled:
        raise BuildError(
            f"pulling '{reference}:{tag}' produced no chart archive",
            reason=reasons.CHART_PULL_ERROR,
        )
    return tag, pulled[0]


def _resolve(client: Any, reference: str, version: str) -> str:
    """Pick the tag: an exact SemVer as is, else the highest tag in the range."""
    try:
        Version.parse_tag(version)
    except ValueError:
        pass
    else:
        return version
    tags = [str(t) for t in client.tags(reference)]
    if not tags:
        raise BuildError(
            f"unable to locate any tags in provided repository: {reference}",
            reason=reasons.CHART_PULL_ERROR,
        )
    if version in tags:
        return version
    try:
        constraint = Constraint.parse(version or "*")
    except ValueError as error:
        raise BuildError(str(error), reason=reasons.CHART_PULL_ERROR) from None
    best: Version | None = None
    for tag in tags:
        try:
            parsed = Version.parse_tag(tag)
        except ValueError:
            continue
        if constraint.check(parsed) and (best is None or parsed > best):
            best = parsed
    if best is None:
        raise BuildError(
            f"could not locate a version matching provided version string {version or '*'}",
            reason=reasons.CHART_PULL_ERROR,
        )
    return best.original

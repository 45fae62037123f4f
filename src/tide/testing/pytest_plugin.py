"""pytest fixtures for testing against a real Kubernetes control plane.

Installing Tide registers this plugin with pytest (the ``tide`` entry point in the ``pytest11``
group), so the fixtures are there in any project with Tide installed, with no import:

``tide_control_plane`` (session)
    A :class:`~tide.testing.ControlPlane` with workloads (etcd, kube-apiserver,
    kube-controller-manager, kube-scheduler and kwok with one fake node), started once on first
    use and stopped when the session ends, even when tests fail. The terminal summary reports
    how long it took from start to ready.
``tide_namespace`` (function)
    The name of a fresh namespace made for the test, named after it, and deleted afterwards
    (deletion is not waited for; the namespace controller finishes it in the background).

After a test that used ``tide_namespace`` passes, every object of a Flux kind (an API group
ending in ``.fluxcd.io``) in that namespace is checked with :func:`tide.testing.violations`,
and the test fails naming each object and the kstatus rule it breaks. A test that knowingly
leaves a broken status behind says so with ``@pytest.mark.tide_kstatus_exempt(reason=...)``.

Example::

    def test_configmap_is_readable_by_its_namespace_admin(tide_control_plane, tide_namespace):
        tide_control_plane.kubectl(
            "create", "configmap", "settings", "-n", tide_namespace, "--from-literal=mode=fast"
        )
        settings = tide_control_plane.request(
            "GET", f"/api/v1/namespaces/{tide_namespace}/configmaps/settings"
        )
        assert settings["data"] == {"mode": "fast"}

Edge cases:

- The first test that asks for ``tide_control_plane`` pays for the start (a few seconds; the
  binaries are built once, on first use ever, which needs Go). Tests that do not ask start
  nothing.
- To share one plane between your own fixtures, override ``tide_control_plane`` in your
  ``conftest.py``; ``tide_namespace`` then uses yours.
- With pytest-xdist each worker runs its own plane, in its own temporary folder and ports.
- Disable the plugin with ``-p no:tide``.
- The check runs when the test body has finished, before any fixture's teardown: objects that
  a controller fixture deletes on its way out are still there to be checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tide.testing._audit import namespace_violations
from tide.testing.controlplane import ControlPlane

__all__ = [
    "namespace_name",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_terminal_summary",
    "tide_control_plane",
    "tide_namespace",
]

EXEMPT_MARKER = "tide_kstatus_exempt"

_STARTUP = pytest.StashKey[float]()
_NAME_LENGTH = 40
"""Characters kept from the test's name; with prefix and digest the name stays well under 63."""


def namespace_name(node_id: str, test_name: str) -> str:
    """Return a DNS-1123 namespace name for a test: ``t-<test name>-<hash of its node id>``.

    The hash keeps names unique across modules and parametrizations whose cut-down names
    collide.
    """
    digest = hashlib.sha1(node_id.encode()).hexdigest()[:8]
    readable = re.sub(r"[^a-z0-9]+", "-", test_name.lower())[:_NAME_LENGTH].strip("-")
    return f"t-{readable}-{digest}" if readable else f"t-{digest}"


@pytest.fixture(scope="session")
def tide_control_plane(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """Start a control plane with workloads once per session; stop it at the end."""
    plane = ControlPlane(workloads=True)
    plane.start()
    request.config.stash[_STARTUP] = plane.startup_seconds
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def tide_namespace(
    tide_control_plane: ControlPlane, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Create a namespace named after the test, yield its name, delete it afterwards."""
    name = namespace_name(request.node.nodeid, request.node.name)
    tide_control_plane.request(
        "POST",
        "/api/v1/namespaces",
        json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    yield name
    with contextlib.suppress(httpx.HTTPError):
        tide_control_plane.request("DELETE", f"/api/v1/namespaces/{name}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that exempts a test from the kstatus check of its namespace."""
    config.addinivalue_line(
        "markers",
        f"{EXEMPT_MARKER}(reason): do not fail this test on kstatus violations in tide_namespace",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Once a test using ``tide_namespace`` has passed, check the Flux objects it left there."""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    namespace = funcargs.get("tide_namespace")
    plane = funcargs.get("tide_control_plane")
    if namespace is None or plane is None or item.get_closest_marker(EXEMPT_MARKER):
        return result
    problems = namespace_violations(plane, namespace)
    if problems:
        listed = "\n  ".join(problems)
        pytest.fail(f"kstatus violations in namespace {namespace}:\n  {listed}", pytrace=False)
    return result


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Report how long the session's control plane took from start to ready."""
    seconds = config.stash.get(_STARTUP, None)
    if seconds is not None:
        terminalreporter.write_line(f"tide control plane ready in {seconds:.1f}s")

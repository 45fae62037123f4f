"""Which contexts a dashboard serves, and the ``Host`` names it answers (IPv6 included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tide.dashboard import Fleet, UnknownContext, graph
from tide.dashboard.server import _admits, _hosts

pytestmark = pytest.mark.unit


def kubeconfig(folder: Path, *, broken: str = "") -> Path:
    """Contexts one, two (current) and three; ``broken`` names one whose key file is missing."""
    names = ("one", "two", "three")
    user = {"token": "t"}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": n, "cluster": {"server": f"https://{n}.example:6443"}} for n in names
        ],
        "users": [
            {"name": n, "user": {"client-certificate": "/none.crt", "client-key": "/none.key"}}
            if n == broken else {"name": n, "user": user}
            for n in names
        ],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in names],
        "current-context": "two",
    }  # fmt: skip
    path = folder / "config"
    path.write_text(yaml.safe_dump(config))
    return path


async def test_every_context_is_served_the_current_one_first(tmp_path: Path) -> None:
    fleet = Fleet.from_kubeconfig(kubeconfig(tmp_path))
    try:
        assert fleet.names == ["two", "one", "three"]
        assert fleet.default == "two"
        assert fleet.get(None).server == "https://two.example:6443"
        assert fleet.get("three").name == "three"
    finally:
        await fleet.close()


async def test_context_restricts_and_an_unknown_one_is_named_with_those_there(
    tmp_path: Path,
) -> None:
    fleet = Fleet.from_kubeconfig(kubeconfig(tmp_path), contexts=["three", "one"])
    try:
        assert fleet.names == ["three", "one"]
        with pytest.raises(UnknownContext, match="'two' is not served"):
            fleet.get("two")
    finally:
        await fleet.close()
    with pytest.raises(UnknownContext) as raised:
        Fleet.from_kubeconfig(kubeconfig(tmp_path), contexts=["one", "nope"])
    assert str(raised.value) == "no context 'nope' in the kubeconfig (it has: one, two, three)"


async def test_a_context_without_a_client_is_reported_and_the_others_served(
    tmp_path: Path,
) -> None:
    fleet = Fleet.from_kubeconfig(kubeconfig(tmp_path, broken="one"))
    try:
        assert fleet.names == ["two", "three", "one"]
        assert fleet.error_of("one") == (
            "cannot load the credentials of context 'one': [Errno 2] No such file or directory"
        )
        with pytest.raises(UnknownContext, match="'one' is unreachable"):
            fleet.get("one")
    finally:
        await fleet.close()


def test_tide_dashboard_refuses_an_unknown_context_in_one_line(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "tide.cli.main", "dashboard", "--kubeconfig",
         str(kubeconfig(tmp_path)), "--context", "one", "--context", "nope"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ran.returncode == 1
    assert ran.stderr.strip() == ("✗ no context 'nope' in the kubeconfig (it has: one, two, three)")


def test_ipv6_loopback_names_are_answered_bracketed_as_browsers_send_them() -> None:
    on_v6 = _hosts("::1", 9080)
    assert _admits(on_v6, "[::1]:9080")
    assert _admits(on_v6, "localhost:9080")
    assert not _admits(on_v6, "::1:9080")
    assert not _admits(on_v6, "[::1]:9081")
    everywhere = _hosts("0.0.0.0", 9080, ["fd00::7", "dash.example"])
    assert _admits(everywhere, "[::1]:9080")
    assert _admits(everywhere, "[fd00::7]:80")
    assert _admits(everywhere, "dash.example:8443")
    assert not _admits(everywhere, "evil.example:9080")
    assert not _admits(_hosts("fd00::1", 80), "[fd00::2]:80")


def test_a_graph_links_each_box_to_its_object_in_its_context_whatever_the_name() -> None:
    source = {"metadata": {"name": "fleet", "namespace": "ns"}, "spec": {}, "status": {}}
    drawn = graph.build({"GitRepository": [source]})
    graph.layout(drawn)
    svg = graph.render(drawn, context="arn:aws:eks:eu-west-1:1:cluster/prod")
    assert (
        'href="#/object/arn%3Aaws%3Aeks%3Aeu-west-1%3A1%3Acluster%2Fprod/GitRepository/ns/fleet"'
        in svg
    )

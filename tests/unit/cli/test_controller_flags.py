"""``tide controller`` flags reach the controllers' ``setup()`` as Flux's flags do theirs."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from tide.cli import controller
from tide.cli.main import app

pytestmark = pytest.mark.unit


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[controller.ControllerOptions]:
    """The options the controllers would start with (nothing connects to a cluster)."""
    seen: list[controller.ControllerOptions] = []

    async def serve(*args: Any) -> None:
        seen.append(args[-1])

    monkeypatch.setattr(controller, "_serve", serve)
    return seen


@pytest.mark.parametrize(
    ("flag", "expected"),
    [([], 1 << 30), (["--artifact-max-unpacked-size", "4096"], 4096),
     (["--artifact-max-unpacked-size", "-1"], None)],
    ids=["default-1GiB", "set", "unbounded"],
)  # fmt: skip
def test_the_bound_reaches_the_controllers(
    served: list[controller.ControllerOptions], flag: list[str], expected: int | None
) -> None:
    result = CliRunner().invoke(app, ["controller", "--disable-leader-election", *flag])
    assert result.exit_code == 0, result.output
    assert served[0].artifact_max_unpacked_size == expected


def test_a_zero_bound_is_refused_with_the_flag_named(
    served: list[controller.ControllerOptions],
) -> None:
    result = CliRunner().invoke(
        app, ["controller", "--disable-leader-election", "--artifact-max-unpacked-size", "0"]
    )
    assert result.exit_code == 2
    words = " ".join(w for w in result.output.split() if w != "│")  # unwrap rich's box
    assert "--artifact-max-unpacked-size must be a positive number of bytes" in words
    assert served == []


def parsed(monkeypatch: pytest.MonkeyPatch, *args: str) -> controller.ControllerOptions:
    """Run ``tide controller ARGS`` up to the point where it would connect; return its options."""
    seen: list[controller.ControllerOptions] = []

    async def serve(*_: Any) -> None:
        seen.append(_[-1])

    monkeypatch.setattr(controller, "_serve", serve)
    result = CliRunner().invoke(app, ["controller", "--disable-leader-election", *args])
    assert result.exit_code == 0, result.output
    [options] = seen
    return options


def test_no_remote_bases_is_off_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parsed(monkeypatch).no_remote_bases is False
    assert parsed(monkeypatch, "--no-remote-bases").no_remote_bases is True


def test_no_remote_bases_reaches_the_kustomize_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    options = parsed(monkeypatch, "--no-remote-bases")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        controller.kustomize_setup, "setup", lambda manager, **kwargs: calls.append(kwargs)
    )
    controller.CONTROLLERS["kustomize"](None, options)  # type: ignore[arg-type]
    assert calls[0]["no_remote_bases"] is True


def test_events_addr_as_a_url_forwards_events_as_flux_controllers_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "http://notification-controller.flux-system.svc.cluster.local./"
    options = parsed(monkeypatch, "--controllers", "source,kustomize", "--events-addr", url)
    assert options.forward_events_to == url
    listening = parsed(monkeypatch, "--controllers", "notification", "--events-addr", ":9191")
    assert listening.forward_events_to is None
    assert listening.events_addr is not None and listening.events_addr.port == 9191


def test_with_the_notification_controller_here_events_stay_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = parsed(monkeypatch, "--events-addr", "http://elsewhere.example/")
    assert options.forward_events_to is None
    assert options.events_addr is not None and options.events_addr.port == 9091


def test_an_events_url_without_a_host_is_refused(
    served: list[controller.ControllerOptions],
) -> None:
    result = CliRunner().invoke(
        app,
        ["controller", "--disable-leader-election", "--controllers", "source",
         "--events-addr", "http:///"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "the URL names no host" in " ".join(w for w in result.output.split() if w != "│")


@pytest.mark.parametrize(
    ("flag", "expected"),
    [([], frozenset()),
     (["--feature-gates", "ObjectLevelWorkloadIdentity=true"], {"ObjectLevelWorkloadIdentity"}),
     (["--feature-gates=ObjectLevelWorkloadIdentity=false"], frozenset())],
    ids=["default-off", "on", "off"],
)  # fmt: skip
def test_feature_gates_reach_the_controllers(
    served: list[controller.ControllerOptions], flag: list[str], expected: frozenset[str]
) -> None:
    result = CliRunner().invoke(app, ["controller", "--disable-leader-election", *flag])
    assert result.exit_code == 0, result.output
    assert served[0].feature_gates == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("Nope=true", "--feature-gates: unknown feature gate 'Nope'; known: "
      "ObjectLevelWorkloadIdentity"),
     ("ObjectLevelWorkloadIdentity", "'ObjectLevelWorkloadIdentity' must be Name=true or "
      "Name=false")],
    ids=["unknown", "no-value"],
)  # fmt: skip
def test_a_bad_feature_gate_stops_the_start_naming_it(
    served: list[controller.ControllerOptions], value: str, message: str
) -> None:
    result = CliRunner().invoke(
        app, ["controller", "--disable-leader-election", "--feature-gates", value]
    )
    assert result.exit_code == 2
    words = " ".join(w for w in result.output.split() if w != "│")
    assert message in words
    assert served == []

"""Every manifest in ``docs/examples/`` does on a cluster what its header says it does.

Each example file states its outcome in comment lines of the form::

    # expect: <Kind>/<name> Ready=<True|False|Unknown> [<reason>]

one line per object to check (in the namespace the file puts it in, ``flux-system`` unless the
line says ``<namespace>/<Kind>/<name>``). A file without an ``expect`` line fails this test, so a
new example cannot go unchecked. The files are applied with ``kubectl apply -f``, in name order,
to a cluster running ``tide controller`` with its default controllers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    assert_kstatus,
    ensure_namespace,
    tide_controller,
    wait_condition,
)
from tide.testing import ControlPlane

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
_EXPECT = re.compile(
    r"^# expect: (?:(?P<ns>[a-z0-9-]+)/)?(?P<kind>[A-Za-z]+)/(?P<name>[a-z0-9.-]+) "
    r"Ready=(?P<status>True|False|Unknown)(?: (?P<reason>[A-Za-z]+))?\s*$"
)


@dataclass(frozen=True)
class Expectation:
    namespace: str
    kind: str
    name: str
    status: str
    reason: str | None


def expectations(path: Path) -> list[Expectation]:
    found = []
    for line in path.read_text().splitlines():
        match = _EXPECT.match(line)
        if match:
            found.append(Expectation(
                match["ns"] or "flux-system", match["kind"], match["name"],
                match["status"], match["reason"],
            ))  # fmt: skip
    return found


@pytest.fixture(scope="module")
def controller(
    installed: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    ensure_namespace(installed, "flux-system")
    folder = tmp_path_factory.mktemp("examples")
    with tide_controller(installed, folder, namespaces=("flux-system",)):
        yield installed


def test_every_example_says_what_it_does() -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert files, f"no examples found in {EXAMPLES}"
    silent = [path.name for path in files if not expectations(path)]
    assert not silent, f"examples without a '# expect: Kind/name Ready=...' line: {silent}"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_reaches_the_state_its_header_names(controller: ControlPlane, path: Path) -> None:
    controller.kubectl("apply", "-f", str(path))
    for want in expectations(path):
        ref = f"{want.kind.lower()}/{want.name}"
        wait_condition(controller, want.namespace, ref, status=want.status, reason=want.reason)
    assert_kstatus(controller, *{want.namespace for want in expectations(path)})

"""The pytest plugin is found through its entry point and offers its fixtures; nothing starts.

The fixtures are never requested here (that would start a cluster); the integration test in
``tests/integration/testing/test_control_plane.py`` uses them for real.
"""

from __future__ import annotations

import re

import pytest

from tide.testing import pytest_plugin
from tide.testing.pytest_plugin import namespace_name

pytestmark = pytest.mark.unit
pytest_plugins = ("pytester",)


def test_installing_tide_registers_the_plugin_under_its_entry_point_name(
    pytester: pytest.Pytester,
) -> None:
    config = pytester.parseconfig()

    assert config.pluginmanager.get_plugin("tide") is pytest_plugin


def test_the_fixtures_are_listed_with_their_scopes_in_a_fresh_project(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_nothing(): pass")

    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(
        [
            "*fixtures defined from tide.testing.pytest_plugin*",
            "tide_control_plane [[]session scope[]]*",
            "*Start a control plane with workloads once per session*",
            "tide_namespace -- *",
            "*Create a namespace named after the test*",
        ]
    )


def test_disabling_the_plugin_removes_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_wants_a_namespace(tide_namespace): pass")

    result = pytester.runpytest_subprocess("-p", "no:tide", "-p", "no:cacheprovider")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'tide_namespace' not found*"])


@pytest.mark.parametrize(
    ("node_id", "test_name"),
    [
        ("tests/test_a.py::test_apply", "test_apply"),
        ("tests/test_a.py::test_apply[Deployment-v1]", "test_apply[Deployment-v1]"),
        ("t.py::test_" + "x" * 200, "test_" + "x" * 200),
        ("t.py::test___", "___"),
    ],
    ids=["plain", "parametrized", "long", "only-separators"],
)
def test_namespace_names_are_valid_dns_labels(node_id: str, test_name: str) -> None:
    name = namespace_name(node_id, test_name)

    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
    assert len(name) <= 63


def test_namespace_names_are_readable_and_distinct_per_test() -> None:
    first = namespace_name("tests/test_a.py::test_apply", "test_apply")
    other_module = namespace_name("tests/test_b.py::test_apply", "test_apply")

    assert first.startswith("t-test-apply-")
    assert first != other_module

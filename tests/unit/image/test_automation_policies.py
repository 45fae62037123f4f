"""Which ImagePolicies an automation applies, and what it reads from them."""

from __future__ import annotations

import pytest

from tide.api._shared import LabelSelector
from tide.image.automation.policies import latest_ref
from tide.image.automation.selector import InvalidSelector, compile_selector

pytestmark = pytest.mark.unit


def test_selector_ands_labels_and_expressions() -> None:
    selector = LabelSelector.model_validate({
        "matchLabels": {"app": "my-app"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "frozen", "operator": "DoesNotExist"},
        ],
    })  # fmt: skip
    matches = compile_selector(selector)
    assert matches({"app": "my-app", "tier": "web"})
    assert not matches({"app": "my-app", "tier": "db"})
    assert not matches({"app": "my-app", "tier": "web", "frozen": "yes"})
    assert not matches({"tier": "web"})
    assert compile_selector(None)({})


@pytest.mark.parametrize(
    ("requirement", "message"),
    [
        ({"key": "a", "operator": "Near"}, "operator 'Near' is not one of"),
        ({"key": "a", "operator": "In"}, "operator 'In' needs values"),
        ({"key": "a", "operator": "Exists", "values": ["x"]}, "operator 'Exists' takes no values"),
    ],
)
def test_invalid_selector_names_the_requirement(requirement: dict, message: str) -> None:
    selector = LabelSelector.model_validate({"matchExpressions": [requirement]})
    with pytest.raises(InvalidSelector, match=r"matchExpressions\[0\]: " + message):
        compile_selector(selector)


def test_latest_ref_reads_v1_and_v1beta2_status() -> None:
    ref = {"name": "ghcr.io/org/app", "tag": "1.0.0", "digest": "sha256:ab"}
    assert latest_ref({"status": {"latestRef": ref}}) == ref
    assert latest_ref({"status": {"latestImage": "localhost:5000/app:1.2"}}) == {
        "name": "localhost:5000/app",
        "tag": "1.2",
    }
    assert latest_ref({"status": {"latestImage": "localhost:5000/app"}}) is None
    assert latest_ref({"status": {}}) is None

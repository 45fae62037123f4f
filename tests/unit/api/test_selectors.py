"""Label selector strings, as ``--watch-label-selector`` takes them for sharding."""

from __future__ import annotations

import pytest

from tide.api.selectors import InvalidSelector, matches, parse_selector
from tide.runtime.manager import shard_lease_name

pytestmark = pytest.mark.unit

KEY = "sharding.fluxcd.io/key"


@pytest.mark.parametrize(
    ("selector", "labels", "selected"),
    [
        (f"{KEY} in (shard1)", {KEY: "shard1"}, True),
        (f"{KEY} in (shard1)", {KEY: "shard2"}, False),
        (f"{KEY} in (shard1, shard2)", {KEY: "shard2"}, True),
        (f"{KEY} in (shard1)", {}, False),
        (f"!{KEY}", {}, True),
        (f"!{KEY}", {KEY: "shard1"}, False),
        (f"{KEY} notin (shard1)", {}, True),
        (f"{KEY} notin (shard1)", {KEY: "shard1"}, False),
        (f"{KEY}=shard1", {KEY: "shard1"}, True),
        (f"{KEY}==shard1", {KEY: "shard2"}, False),
        (f"{KEY}!=shard1", {}, True),
        (KEY, {KEY: ""}, True),
        (f"{KEY} in (shard1),team=a", {KEY: "shard1", "team": "b"}, False),
        ("", {"anything": "x"}, True),
    ],
)
def test_a_selector_picks_the_objects_the_api_server_would(
    selector: str, labels: dict[str, str], selected: bool
) -> None:
    assert matches(parse_selector(selector), labels) is selected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (f"{KEY} in ()", f"selector requirement '{KEY} in ()': 'in' needs values"),
        (f"{KEY} in (shard1", f"selector '{KEY} in (shard1': unbalanced parentheses"),
        ("bad key", "selector requirement 'bad key': 'bad key' is not a label key"),
        (f"{KEY}=sh@rd", f"selector requirement '{KEY}=sh@rd': 'sh@rd' is not a label value"),
    ],
)
def test_a_malformed_selector_is_refused_naming_the_requirement(
    selector: str, message: str
) -> None:
    with pytest.raises(InvalidSelector) as raised:
        parse_selector(selector)

    assert str(raised.value).startswith(message)


def test_each_shard_gets_its_own_lease_whose_name_shows_the_shard() -> None:
    base = "tide-controller-leader-election"
    one = shard_lease_name(base, f"{KEY} in (shard1)")
    two = shard_lease_name(base, f"{KEY} in (shard2)")

    assert shard_lease_name(base, "") == base
    assert one.startswith(f"{base}-sharding-fluxcd-io-key-in-shard1-")
    assert len({one, two, shard_lease_name(base, f"!{KEY}"), shard_lease_name(base, KEY)}) == 4

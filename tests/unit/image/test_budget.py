"""The per-registry request budget spaces requests to one host, not across hosts."""

from __future__ import annotations

import pytest

from tide.image.budget import RegistryBudget

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_requests_are_spaced_at_the_rate() -> None:
    clock = Clock()
    budget = RegistryBudget(rps=10, burst=3, clock=clock)
    delays = [budget.delay("ghcr.io") for _ in range(5)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3] == pytest.approx(0.1)
    assert delays[4] == pytest.approx(0.2)


def test_hosts_have_budgets_of_their_own() -> None:
    budget = RegistryBudget(rps=1, burst=1, clock=Clock())
    assert budget.delay("a.example") == 0.0
    assert budget.delay("b.example") == 0.0
    assert budget.delay("a.example") == pytest.approx(1.0)
    assert budget.requests == {"a.example": 2, "b.example": 1}


def test_a_quiet_spell_refills_the_burst() -> None:
    clock = Clock()
    budget = RegistryBudget(rps=2, burst=2, clock=clock)
    for _ in range(4):
        budget.delay("h")
    clock.now += 10
    assert budget.delay("h") == 0.0


def test_zero_means_no_limit() -> None:
    budget = RegistryBudget(rps=0, clock=Clock())
    assert all(budget.delay("h") == 0.0 for _ in range(100))

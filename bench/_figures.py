"""What the benchmarks share: a process's peak memory, and printing runs and their medians."""

from __future__ import annotations

import statistics
from pathlib import Path

__all__ = ["p90", "peak_rss_mib", "print_medians", "print_run"]


def p90(values: list[float]) -> float:
    """Return the 90th percentile of ``values`` (nearest rank): the tail a target is about."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def peak_rss_mib(pid: int) -> float:
    """Return the peak resident memory of process ``pid`` in MiB (``VmHWM``), NaN if unknown."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def print_run(run: int, figures: dict[str, float]) -> None:
    """Print one run's figures on one line."""
    listed = ", ".join(f"{key}={value:.1f}" for key, value in figures.items())
    print(f"run {run + 1}: {listed}", flush=True)


def print_medians(title: str, results: list[dict[str, float]]) -> None:
    """Print ``title`` and the median of every figure over ``results``."""
    print(title)
    width = max(len(key) for key in results[0])
    for key in results[0]:
        print(f"  {key:>{width}}: {statistics.median(r[key] for r in results):.1f}")

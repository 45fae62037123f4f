"""Measure the local control plane's start-to-ready time over repeated runs.

Run: ``.venv/bin/python bench/controlplane_start.py [--runs 5]``. Prints each run and the median
for etcd + kube-apiserver alone and with controller-manager, scheduler and kwok.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tide.testing import ControlPlane, ensure_binaries


def measure(*, workloads: bool, runs: int) -> list[float]:
    """Start and stop a control plane ``runs`` times; return each start-to-ready time."""
    figures = []
    for _ in range(runs):
        with ControlPlane(workloads=workloads) as plane:
            figures.append(plane.startup_seconds)
        time.sleep(0.5)
    return figures


def main() -> None:
    """Print start-to-ready figures for both shapes of control plane."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    ensure_binaries()
    for workloads in (False, True):
        figures = measure(workloads=workloads, runs=runs)
        shape = "with workloads" if workloads else "etcd + apiserver"
        listed = ", ".join(f"{f:.2f}" for f in figures)
        print(f"{shape:>17}: median {statistics.median(figures):.2f}s  (runs: {listed})")


if __name__ == "__main__":
    main()

"""CPU seconds and peak memory of a process together with everything it spawns.

A controller's cost is not its own process alone: every kustomize build and every ``git`` run
is a child with memory and CPU of its own. Linux adds a child's CPU time to its parent's
``cutime``/``cstime`` once the parent has waited for it, so the root's ``/proc/<pid>/stat``
holds the CPU of the whole tree (plus the children still running, read here one by one). Peak
memory has no such sum: :class:`TreeMeter` samples the root and every live descendant
(``/proc/<pid>/task/<tid>/children``) on a thread and keeps the largest totals. Two totals:
resident sets (RSS), which count a page shared by several processes (the text of four
concurrent ``kubectl kustomize`` runs) once per process, and proportional sets (PSS, from
``smaps_rollup``), which split each shared page among its sharers, so their sum is what the
tree occupies. A child that lives shorter than the sampling interval can be missed, so both are
lower bounds; neither is reported below the root's own ``VmHWM``, which the kernel keeps
exactly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from _figures import peak_rss_mib  # bench/ is on sys.path when a script runs

__all__ = [
    "TreeMeter",
    "descendants",
    "server_cpu",
    "server_pid",
    "servers_cpu",
    "tree_cpu_seconds",
]

_TICK = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Return the pids of every live descendant of ``pid`` (children, theirs, and so on)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                pending.append(child)
    return found


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _cpu_ticks(pid: int, *, waited: bool) -> int:
    """utime + stime of ``pid``, plus its waited-for children's when ``waited``."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if waited else 0)


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds used so far by ``pid``, its reaped children and its live ones."""
    ticks = _cpu_ticks(pid, waited=True)
    ticks += sum(_cpu_ticks(child, waited=True) for child in descendants(pid))
    return ticks / _TICK


def _rss_pss_kib(pid: int) -> tuple[int, int]:
    """Return (Rss, Pss) of ``pid`` in KiB, zeros when it has gone."""
    rss = pss = 0
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    for line in lines:
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


class TreeMeter:
    """Sample the resident memory of ``pid`` and its descendants every ``interval`` seconds.

    Start it right after the process starts; read :meth:`peak_rss_mib` while the root still
    runs (its ``VmHWM`` goes with it), and :meth:`stop` before the process is gone.
    """

    def __init__(self, pid: int, *, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self._peak_rss = self._peak_pss = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, name=f"tree-{pid}", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stopped.wait(self.interval):
            sizes = [_rss_pss_kib(pid) for pid in (self.pid, *descendants(self.pid))]
            self._peak_rss = max(self._peak_rss, sum(rss for rss, _ in sizes))
            self._peak_pss = max(self._peak_pss, sum(pss for _, pss in sizes))

    def peak_rss_mib(self) -> float:
        """Return the largest sampled sum of RSS, and at least the root's own peak, in MiB."""
        return max(self._peak_rss / 1024, peak_rss_mib(self.pid))

    def peak_pss_mib(self) -> float:
        """Return the largest sampled sum of PSS, and at least the root's own peak, in MiB."""
        return max(self._peak_pss / 1024, peak_rss_mib(self.pid))

    def cpu_seconds(self) -> float:
        """Return the CPU seconds of the whole tree so far."""
        return tree_cpu_seconds(self.pid)

    def stop(self) -> None:
        """Stop sampling."""
        self._stopped.set()
        self._thread.join()


def server_pid(command: str) -> int | None:
    """Return the pid of our descendant whose name is ``command`` (``kube-apiserver``)."""
    for pid in descendants(os.getpid()):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == command:
                return pid
        except OSError:
            continue
    return None


def server_cpu(command: str) -> Callable[[], float]:
    """Return a reader of the CPU seconds of our descendant ``command``, for ``Fleet.extra``.

    The API server and etcd do the work every apply costs; their CPU next to the controller's
    says which side a benchmark's time went to.
    """
    pid = server_pid(command)
    return (lambda: tree_cpu_seconds(pid)) if pid is not None else (lambda: float("nan"))


def servers_cpu() -> dict[str, Callable[[], float]]:
    """Readers of the API server's and etcd's CPU seconds, by figure name."""
    return {
        "apiserver_cpu_seconds": server_cpu("kube-apiserver"),
        "etcd_cpu_seconds": server_cpu("etcd"),
    }

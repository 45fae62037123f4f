"""Build and locate the control-plane binaries: etcd, kube-apiserver and friends, kwok.

Nothing is downloaded prebuilt: every binary is compiled from its Go module with the machine's Go
toolchain and cached under ``$TIDE_CACHE_DIR`` (default ``~/.cache/tide``) in a folder named after
the pinned versions, so a second build costs nothing and a version bump builds afresh.

``k8s.io/kubernetes`` and the etcd server cannot be ``go install``-ed by version (their ``go.mod``
files carry local ``replace`` lines), so each is built as a dependency of a small wrapper module of
ours in ``gomod/`` that pins the matching versions; kwok has no such lines, so it is installed
directly.

Run ``python -m tide.testing.binaries`` (what ``make controlplane`` does) to build ahead of time.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tide import gobuild
from tide.gobuild import GoMissingError, cache_root

__all__ = [
    "ETCD_VERSION",
    "KUBERNETES_VERSION",
    "KWOK_VERSION",
    "Binaries",
    "BuildError",
    "GoMissingError",
    "binaries_dir",
    "cache_root",
    "ensure_binaries",
    "find_binaries",
]

KUBERNETES_VERSION = "v1.34.3"
"""Pinned ``k8s.io/kubernetes`` release; ``gomod/kubernetes/go.mod`` pins staging at v0.34.3."""
ETCD_VERSION = "v3.6.16"
"""Pinned ``go.etcd.io/etcd/server/v3`` release, matching ``gomod/etcd/go.mod``."""
KWOK_VERSION = "v0.7.0"
"""Pinned kwok release; v0.7.0 still ships built-in node and pod stages (v0.8.0 needs a config)."""

_GOMOD_DIR = Path(__file__).parent / "gomod"
_KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")

Log = Callable[[str], None]


BuildError = gobuild.GoBuildError
"""A ``go`` command that builds a control-plane binary failed (``tide.gobuild.GoBuildError``)."""


@dataclass(frozen=True)
class Binaries:
    """Paths of one set of control-plane executables, all of the pinned versions."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path

    def all(self) -> tuple[Path, ...]:
        """Return every path, in start order."""
        return (
            self.etcd,
            self.kube_apiserver,
            self.kube_controller_manager,
            self.kube_scheduler,
            self.kwok,
        )


def binaries_dir() -> Path:
    """Return the folder holding binaries of exactly the pinned versions."""
    tag = f"k8s-{KUBERNETES_VERSION}_etcd-{ETCD_VERSION}_kwok-{KWOK_VERSION}"
    return cache_root() / "controlplane" / tag


def _expected() -> Binaries:
    folder = binaries_dir()
    return Binaries(
        etcd=folder / "etcd",
        kube_apiserver=folder / "kube-apiserver",
        kube_controller_manager=folder / "kube-controller-manager",
        kube_scheduler=folder / "kube-scheduler",
        kwok=folder / "kwok",
    )


def find_binaries() -> Binaries | None:
    """Return the cached binaries, or None when any of them has not been built yet."""
    expected = _expected()
    if all(path.is_file() and os.access(path, os.X_OK) for path in expected.all()):
        return expected
    return None


def ensure_binaries(*, log: Log | None = None) -> Binaries:
    """Return the cached binaries, building the missing ones first.

    Args:
        log: where progress lines go (default: standard error). A cold build downloads the
            Kubernetes module graph and compiles for several minutes; a warm one returns at once.

    Raises:
        GoMissingError: Go is not installed.
        BuildError: a build failed; the message carries the tail of Go's output.
    """
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    expected = _expected()
    missing = [path for path in expected.all() if not path.is_file()]
    if not missing:
        return expected
    go = gobuild.find_go("the local control plane")
    expected.etcd.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for path in missing:
        say(f"building {path.name} ({_version_of(path.name)}) into {path.parent}")
        if path.name == "etcd":
            _build_in_wrapper(go, "etcd", "go.etcd.io/etcd/server/v3", path, _etcd_ldflags())
        elif path.name == "kwok":
            _install_kwok(go, path)
        else:
            package = f"k8s.io/kubernetes/cmd/{path.name}"
            _build_in_wrapper(go, "kubernetes", package, path, _kube_ldflags())
    say(f"built {len(missing)} binaries in {time.monotonic() - started:.0f}s")
    return expected


def _version_of(name: str) -> str:
    if name == "etcd":
        return ETCD_VERSION
    if name == "kwok":
        return KWOK_VERSION
    return KUBERNETES_VERSION


def _kube_ldflags() -> str:
    # Without these, /version reports v0.0.0-master and feature-gate emulation guesses the version.
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    values = {"gitVersion": KUBERNETES_VERSION, "gitMajor": major, "gitMinor": minor}
    flags = []
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{key}={value}" for key, value in values.items()]
    return " ".join(["-s", "-w", *flags])


def _etcd_ldflags() -> str:
    return "-s -w"


def _build_in_wrapper(go: str, wrapper: str, package: str, output: Path, ldflags: str) -> None:
    # The wrapper is copied out first: an installed package folder may be read-only, and -mod=mod
    # may rewrite go.sum.
    with tempfile.TemporaryDirectory(prefix=f"tide-gomod-{wrapper}-") as scratch:
        module = Path(scratch) / wrapper
        shutil.copytree(_GOMOD_DIR / wrapper, module)
        partial = output.with_name(output.name + ".partial")
        command = [go, "build", "-mod=mod", "-trimpath", "-ldflags", ldflags]
        gobuild.run_go([*command, "-o", str(partial), package], cwd=module)
        partial.replace(output)


def _install_kwok(go: str, output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="tide-kwok-") as gobin:
        env = {"GOBIN": gobin}
        gobuild.run_go(
            [go, "install", f"sigs.k8s.io/kwok/cmd/kwok@{KWOK_VERSION}"], cwd=Path(gobin), env=env
        )
        shutil.move(str(Path(gobin) / "kwok"), output)


def main() -> int:
    """Build every missing binary and print where they are."""
    try:
        found = ensure_binaries()
    except (GoMissingError, BuildError) as error:
        print(error, file=sys.stderr)
        return 1
    for path in found.all():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The Kustomization controller: build a source folder, apply it, prune, check health, report.

``reconciler.py`` is the pipeline (dependencies → artifact → build → apply → prune → health →
report), one named step each, failing with one reason; ``setup.py`` wires it into a manager
(its kind, the source kinds it watches, the HelmReleases ``dependsOn`` may name). The steps live
beside it: ``inputs.py`` (references, dependencies, substitution variables, age keys),
``build.py`` with ``reach.py`` and ``paths.py`` (the real kustomize, and what the build may
reach), ``server.py`` with ``server_binary.py`` and the Go program in ``buildserver/`` (the
long-lived kustomize build server and its binary), ``unpacked.py`` (one read-only unpacked copy
per artifact digest), ``build_cache.py`` (one build shared by Kustomizations with the same inputs),
``substitute.py``, ``decrypt.py`` (SOPS with the real ``sops``), ``target.py`` with
``kubeconfig.py`` (which cluster, as whom), ``health.py`` and ``history.py``. Applying and
pruning go through :mod:`tide.kube.ssa`.

This module re-exports the pure steps (build, substitute, decrypt) and their errors, which need
no cluster.
"""

from tide.kustomize.build import BuildError, BuildOptions, build
from tide.kustomize.decrypt import DecryptionError, decrypt, decrypt_files
from tide.kustomize.substitute import SubstitutionError, merge_variables, substitute

__all__ = [
    "BuildError",
    "BuildOptions",
    "DecryptionError",
    "SubstitutionError",
    "build",
    "decrypt",
    "decrypt_files",
    "merge_variables",
    "substitute",
]

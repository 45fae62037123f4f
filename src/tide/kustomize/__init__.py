"""The Kustomization controller's pure steps: build, substitute variables, decrypt.

Each step fails with its own exception carrying one condition reason (``BuildError`` →
``BuildFailed``, ``SubstitutionError`` → ``BuildFailed``, ``DecryptionError`` →
``DecryptionFailed``), so the reconciler maps failures to ``Ready=False`` in one place.
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

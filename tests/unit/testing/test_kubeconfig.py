"""Credentials of a control plane live in its folder, so any process can mint users from it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tide.testing import ControlPlane, ControlPlaneError, _certs, _kubeconfig

pytestmark = pytest.mark.unit

SERVER = "https://127.0.0.1:6443"


def test_a_ca_loaded_from_pem_issues_certificates_its_original_would_verify() -> None:
    original = _certs.CertificateAuthority("tide-client-ca")
    loaded = _certs.CertificateAuthority.from_pem(original.cert_pem, original.key_pem)

    leaf = x509.load_pem_x509_certificate(loaded.issue("alice").cert_pem)

    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(original.cert_pem))
    assert loaded.cert_pem == original.cert_pem


def test_a_ca_refuses_a_key_that_is_not_its_own() -> None:
    ca = _certs.CertificateAuthority("a")
    other = _certs.CertificateAuthority("b")

    with pytest.raises(ValueError, match="does not belong"):
        _certs.CertificateAuthority.from_pem(ca.cert_pem, other.key_pem)


def test_the_pki_keeps_the_client_ca_key_readable_by_its_owner_only(tmp_path: Path) -> None:
    pki = tmp_path / "pki"

    _kubeconfig.write_pki(pki)

    assert pki.stat().st_mode & 0o777 == 0o700
    for name in ("client-ca.key", "admin.key", "sa.key", "apiserver.key"):
        assert (pki / name).stat().st_mode & 0o777 == 0o600, name
    _certs.CertificateAuthority.from_pem(
        (pki / "client-ca.crt").read_bytes(), (pki / "client-ca.key").read_bytes()
    )


def test_a_plane_that_did_not_start_here_mints_users_from_its_folder(tmp_path: Path) -> None:
    _kubeconfig.write_pki(tmp_path / "pki")
    # What ControlPlane.attach() builds: no in-memory state from the process that started it.
    plane = ControlPlane(data_dir=tmp_path, detach=True, server=SERVER)

    path = plane.kubeconfig_for_user("alice", groups=("developers", "qa"))

    assert path == tmp_path / "user-alice.kubeconfig"
    assert path.stat().st_mode & 0o777 == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == SERVER
    user = config["users"][0]["user"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    cert.verify_directly_issued_by(
        x509.load_pem_x509_certificate((tmp_path / "pki" / "client-ca.crt").read_bytes())
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    groups = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert groups == ["developers", "qa"]


def test_minting_without_a_saved_client_ca_key_says_what_is_missing(tmp_path: Path) -> None:
    _kubeconfig.write_pki(tmp_path / "pki")
    (tmp_path / "pki" / "client-ca.key").unlink()
    plane = ControlPlane(data_dir=tmp_path, detach=True, server=SERVER)

    with pytest.raises(ControlPlaneError, match=r"client-ca\.key is missing"):
        plane.kubeconfig_for_user("alice")


def test_a_token_kubeconfig_carries_the_token_and_trusts_the_serving_ca(tmp_path: Path) -> None:
    _kubeconfig.write_pki(tmp_path / "pki")
    kubeconfigs = _kubeconfig.Kubeconfigs(folder=tmp_path, server=SERVER)

    config = yaml.safe_load(kubeconfigs.token("sa-team-ci", "s3cr3t").read_text())

    assert config["users"] == [{"name": "sa-team-ci", "user": {"token": "s3cr3t"}}]
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca == (tmp_path / "pki" / "ca.crt").read_bytes()
    assert config["current-context"] == "sa-team-ci"


def test_the_serving_certificate_names_loopback(tmp_path: Path) -> None:
    _kubeconfig.write_pki(tmp_path / "pki")

    cert = x509.load_pem_x509_certificate((tmp_path / "pki" / "apiserver.crt").read_bytes())

    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)

"""`verify_package`: an intact package verifies; any changed byte is reported with its file."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from relecture.requisitions.package_verify import verify_package
from tests import evidence_builders as eb


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    result, key, *_ = eb.build_package(tmp_path_factory.mktemp("verify"))
    return result, key


@pytest.fixture
def package(built, tmp_path):
    """A fresh copy of the built package, free to tamper with."""
    return shutil.copytree(built[0].path, tmp_path / "pkg")


def _flip(path, where=0.5):
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    path.write_bytes(bytes(data))


def test_intact_package_verifies(package, built):
    report = verify_package(package)
    assert report.ok, report.problems
    assert report.package_id == built[0].package_id
    assert report.files_checked >= 9


@pytest.mark.parametrize("target", ["data/hits/{sid}/master.mp4", "data/evidence.json",
                                    "manifest-sha256.txt", "data/report.html", "data/report.pdf",
                                    "data/hits/{sid}/still.jpg", "tagmanifest-sha256.txt",
                                    "signature.ed25519", "bag-info.txt"])
def test_one_changed_byte_is_reported_with_its_file(package, built, target):
    rel = target.format(sid=built[0].hits[0])
    _flip(package / rel)
    report = verify_package(package)
    assert not report.ok
    assert rel in {p.file for p in report.problems}, report.problems


def test_rehashed_evidence_is_caught_by_the_signature(package):
    """Someone edits evidence.json and rewrites both manifests to match: only the signature
    (over the manifests) can tell."""
    import hashlib

    ev_path = package / "data/evidence.json"
    text = ev_path.read_text()
    assert f'"plate": "{eb.SUBJECT_PLATE}"' in text
    ev_path.write_text(text.replace(f'"plate": "{eb.SUBJECT_PLATE}"', '"plate": "ZZ999ZZ"'))
    assert json.loads(ev_path.read_text())["hits"][0]["plate"] == "ZZ999ZZ"
    for manifest, rel in (("manifest-sha256.txt", "data/evidence.json"),
                          ("tagmanifest-sha256.txt", "manifest-sha256.txt")):
        lines = (package / manifest).read_text().splitlines()
        digest = hashlib.sha256((package / rel).read_bytes()).hexdigest()
        lines = [f"{digest} {rel}" if line.split()[1] == rel else line for line in lines]
        (package / manifest).write_text("\n".join(lines) + "\n")
    report = verify_package(package)
    assert {p.file for p in report.problems} == {"signature.ed25519", "tagmanifest-sha256.txt"}


def test_added_and_removed_files_are_named(package, built):
    (package / "data" / "extra.txt").write_text("planted")
    (package / f"data/hits/{built[0].hits[0]}/derived.mp4").unlink()
    files = {p.file for p in verify_package(package).problems}
    assert {"data/extra.txt", f"data/hits/{built[0].hits[0]}/derived.mp4"} <= files


def test_trusted_key_must_match(package, built):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    def pem(key):
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)

    assert verify_package(package, trusted_public_key_pem=pem(built[1])).ok
    other = verify_package(package, trusted_public_key_pem=pem(Ed25519PrivateKey.generate()))
    assert [p.file for p in other.problems] == ["data/public_key.pem"]


def test_not_a_package_is_a_report_not_an_exception(tmp_path):
    (tmp_path / "x").mkdir()
    report = verify_package(tmp_path / "x")
    assert not report.ok and report.problems
    assert not verify_package(tmp_path / "missing").ok


def test_signature_checks_with_openssl_as_documented(package, tmp_path):
    """The hand check given in export.py's docstring works with stock OpenSSL 3."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    signed = tmp_path / "signed"
    signed.write_bytes((package / "manifest-sha256.txt").read_bytes()
                       + (package / "tagmanifest-sha256.txt").read_bytes())
    cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "data/public_key.pem", "-rawin",
           "-in", str(signed), "-sigfile", "signature.ed25519"]
    ok = subprocess.run(cmd, cwd=package, capture_output=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    _flip(package / "signature.ed25519")
    assert subprocess.run(cmd, cwd=package, capture_output=True).returncode != 0

"""The site's secrets in `<home>/keys/`: the audit signing key and the query-hashing key.

- `audit_ed25519.pem`: Ed25519 private key (PKCS#8 PEM, mode 0600) that signs audit
  checkpoints, the audit head and evidence packages. `audit_ed25519.pub.pem` beside it is the
  public key to hand to verifiers (auditors, courts); keep a copy outside the home, since a
  check made with the home's own copy proves nothing against someone who replaced both.
- `audit_query.key`: 32 random bytes (mode 0600) keying the HMAC that stands for a query
  text in the audit log (see `audit.query_reference`).

Both are created on first use. Creation is race-free across processes (`files.create_once`).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from relecture.errors import IntegrityError, UsageError
from relecture.files import create_once
from relecture.settings import Home

SIGNING_KEY = "audit_ed25519.pem"
PUBLIC_KEY = "audit_ed25519.pub.pem"
QUERY_KEY = "audit_query.key"


def keys_dir(home: Home) -> Path:
    """`<home>/keys`, created with mode 0700."""
    d = home.root / "keys"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def public_key_path(home: Home) -> Path:
    """Where the public key for verifiers is exported (created with the signing key)."""
    return keys_dir(home) / PUBLIC_KEY


def signing_key(home: Home):
    """The site's Ed25519 private key, created (0600) with its public key on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = keys_dir(home) / SIGNING_KEY
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        create_once(path, pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as e:
        raise IntegrityError(f"{path}: not a readable private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError(f"{path}: not an Ed25519 key")
    pub = public_key_path(home)
    if not pub.exists():
        create_once(pub, public_pem(key.public_key()), mode=0o644)
    return key


def public_pem(public_key) -> bytes:
    """The PEM (SubjectPublicKeyInfo) bytes of an Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public_key) -> str:
    """SHA-256 of the raw public key: names the key that made a signature."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(source):
    """An Ed25519 public key from a key object, PEM bytes or a PEM file path."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, (str, Path)):
        try:
            source = Path(source).read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read the public key {source}: {e.strerror}") from None
    try:
        key = load_pem_public_key(source)
    except ValueError as e:
        raise IntegrityError(f"not a readable public key ({e})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise IntegrityError("the public key is not an Ed25519 key")
    return key


def query_key(home: Home) -> bytes:
    """The site's 32-byte secret for query HMACs, created (0600) on first use."""
    path = keys_dir(home) / QUERY_KEY
    if not path.exists():
        create_once(path, secrets.token_bytes(32))
    data = path.read_bytes()
    if len(data) != 32:
        raise IntegrityError(f"{path}: expected 32 bytes, found {len(data)}")
    return data

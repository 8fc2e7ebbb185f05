"""What the audit log hashes and what it signs: canonical JSON, entry hashes, signed messages.

Two statements are signed with the site key, each under its own prefix so that one can never
stand for the other (format 1 signed the same bytes for both, so a checkpoint's signature
could be replayed as the head of a log cut just before that checkpoint):

- a checkpoint record signs `checkpoint_message(seq, hash)`: the chain reached `seq`, whose
  entry hash is `hash`;
- the head file (`audit_head`) signs `head_message(fields)`: every one of its fields.

`legacy_message` is the format-1 message, kept only to verify logs written before format 2.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

GENESIS = "0" * 64
FORMAT = 2
_LEGACY = b"relecture-audit-head/1\n"
_CHECKPOINT = b"relecture-audit-checkpoint/2\n"
_HEAD = b"relecture-audit-head/2\n"


def canonical(obj: Any) -> bytes:
    """The canonical JSON bytes that are hashed and written: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of `record` without its `entry_hash`."""
    body = {k: v for k, v in record.items() if k != "entry_hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def checkpoint_message(seq: int, head_hash: str) -> bytes:
    """The bytes a format-2 checkpoint signature covers."""
    return _CHECKPOINT + canonical({"hash": head_hash, "seq": seq})


def head_message(fields: Mapping[str, Any]) -> bytes:
    """The bytes a format-2 head signature covers: every field of the head but the signature."""
    return _HEAD + canonical({k: v for k, v in fields.items() if k != "signature"})


def legacy_message(seq: int, head_hash: str) -> bytes:
    """The bytes format-1 checkpoints and heads both signed (read-only compatibility)."""
    return _LEGACY + canonical({"hash": head_hash, "seq": seq})


def signed(public_key, message: bytes, signature: Any) -> bool:
    """Whether `signature` (hex) is `public_key`'s Ed25519 signature of `message`."""
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True

"""The signed head of the audit log, `<log>.head` (`audit.head`), rewritten after every append.

A format-2 head signs every one of its fields (`audit_format.head_message`): `seq` and `hash`
of the last record, `since_checkpoint` (events since the last checkpoint, which sets when
the next one is due), `log_bytes` and `log_sha256` (size and SHA-256 of the whole log file),
`key_id` and `format`. The digest lets an append check with one SHA-256 pass that the log is
byte for byte the one the previous append verified and signed.

A format-1 head (seq and hash signed with the very message checkpoints signed, the cadence
unsigned) is read for compatibility only: `audit_verify` accepts it only from a home whose
catalog has never recorded the log, and the next append replaces it with a format-2 head.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from relecture.errors import IntegrityError
from relecture.requisitions import keys
from relecture.requisitions.audit_format import (FORMAT, canonical, head_message,
                                                 legacy_message, signed)
from relecture.files import write_atomic

_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = {"format", "seq", "hash", "since_checkpoint", "log_bytes", "log_sha256", "key_id",
           "signature"}


@dataclass(frozen=True)
class Head:
    """A head whose signature was checked. Format-1 heads leave the last three fields None."""

    seq: int
    hash: str
    format: int
    since_checkpoint: int | None
    log_bytes: int | None
    log_sha256: str | None


def head_path(log: Path) -> Path:
    """Where the signed head of `log` lives: `audit.jsonl` -> `audit.head`."""
    return Path(log).with_suffix(".head")


def write_head(log: Path, key, seq: int, entry_hash: str, since_checkpoint: int,
               log_bytes: int, log_sha256: str) -> None:
    """Sign (with private `key`) and atomically replace the head of `log`."""
    fields = {"format": FORMAT, "seq": seq, "hash": entry_hash,
              "since_checkpoint": since_checkpoint, "log_bytes": log_bytes,
              "log_sha256": log_sha256, "key_id": keys.key_id(key.public_key())}
    fields["signature"] = key.sign(head_message(fields)).hex()
    write_atomic(head_path(log), canonical(fields))


def read_head(log: Path, public_key) -> Head | None:
    """The head of `log` with its signature checked, or None when there is no head file.

    IntegrityError naming the file when it is damaged or not signed by `public_key`.
    """
    hp = head_path(log)
    if not hp.exists():
        return None
    try:
        d = json.loads(hp.read_bytes())
        legacy = isinstance(d, dict) and "format" not in d
        seq, h = d["seq"], d["hash"]
        if type(seq) is not int or seq < 0 or not _HEX64.fullmatch(str(h)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(f"{hp.name} is damaged") from None
    if legacy:
        if not signed(public_key, legacy_message(seq, h), d.get("signature")):
            raise IntegrityError(f"{hp.name} signature does not verify")
        return Head(seq, h, 1, None, None, None)
    if set(d) != _FIELDS or d["format"] != FORMAT or not _counts(d) \
            or not _HEX64.fullmatch(str(d["log_sha256"])):
        raise IntegrityError(f"{hp.name} is damaged or of an unknown format")
    if not signed(public_key, head_message(d), d["signature"]):
        raise IntegrityError(f"{hp.name} signature does not verify (a field was changed, or "
                             "another key signed it)")
    return Head(seq, h, FORMAT, d["since_checkpoint"], d["log_bytes"], d["log_sha256"])


def _counts(d: dict) -> bool:
    return all(type(d[k]) is int and d[k] >= 0 for k in ("since_checkpoint", "log_bytes"))

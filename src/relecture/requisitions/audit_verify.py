"""Check an audit log (see `audit`): every link, every checkpoint signature, the signed head,
and what the catalog last recorded of the log (`audit_anchor`).

`verify_chain` stops at the first broken link and says where (seq, line number) and why.
What it detects: a changed byte in any record (hash or canonical form), a record deleted,
inserted or moved (seq and prev_hash), a record rewritten with recomputed hashes (the next
checkpoint's or the head's signature no longer matches), lines removed at the end (the log
stops before the signed head), records appended without the key (beyond the signed head), a
head that does not describe the log (every field is signed and compared), and, with the
catalog's anchor, a log cut back to an earlier signed state or deleted with its head.
Residual: the log, its head and the catalog all replaced by older copies are only caught
with `expected_head`, a head kept outside the home.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relecture.errors import IntegrityError
from relecture.requisitions import keys
from relecture.requisitions.audit_anchor import Anchor, read_home
from relecture.requisitions.audit_format import (FORMAT, GENESIS, canonical,
                                                 checkpoint_message, entry_hash,
                                                 legacy_message, signed)
from relecture.requisitions.audit_head import Head, head_path, read_head
from relecture.settings import Home


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify_chain`: ok, or the first broken link."""

    ok: bool
    records: int  # records whose links were checked before stopping
    checkpoints: int  # valid signed checkpoints among them
    head_seq: int  # last valid record's seq (0 for an empty log)
    head_hash: str
    since_checkpoint: int = 0  # events after the last checkpoint
    anchor_seq: int | None = None  # the last seq the catalog recorded, when it did
    broken_seq: int | None = None  # seq expected at the broken place
    broken_line: int | None = None  # 1-based line number in the log
    reason: str | None = None

    def check(self) -> "VerifyReport":
        """Return self when ok; otherwise raise IntegrityError describing the break."""
        if not self.ok:
            raise IntegrityError(f"audit log broken at seq {self.broken_seq} "
                                 f"(line {self.broken_line}): {self.reason}")
        return self


@dataclass
class _Walk:
    """What reading the log established so far."""

    seq: int = 0
    hash: str = GENESIS
    checkpoints: int = 0
    since_checkpoint: int = 0
    size: int = 0
    digest: Any = field(default_factory=hashlib.sha256)  # of the bytes read


def verify_chain(path: Path, public_key, expected_head: tuple[int, str] | None = None,
                 anchor: Anchor | None = None) -> VerifyReport:
    """Verify the log at `path` with `public_key` (key object, PEM bytes or PEM file).

    `expected_head` (seq, entry hash), when given, is a head recorded outside the home (from
    an evidence package or an earlier verify): the log must still hold it. `anchor` is what
    the catalog last recorded (`audit_anchor`): the log must hold it too, and a format-1
    head is then refused (the log was appended to in format 2 since).
    """
    key = keys.load_public_key(public_key)
    seen: dict[int, str] = {}
    walk = _Walk()

    def broken(seq: int, line: int, reason: str) -> VerifyReport:
        return VerifyReport(False, len(seen), walk.checkpoints, walk.seq, walk.hash,
                            walk.since_checkpoint, anchor and anchor.seq, seq, line, reason)

    path = Path(path)
    if path.exists():
        with open(path, "rb") as f:
            for n, raw in enumerate(f, start=1):
                want = walk.seq + 1
                record, why = _check_line(raw, want, walk.hash, key)
                if why is not None:
                    return broken(want, n, why)
                is_checkpoint = record["record"] == "checkpoint"
                walk.seq, walk.hash = want, record["entry_hash"]
                walk.checkpoints += is_checkpoint
                walk.since_checkpoint = 0 if is_checkpoint else walk.since_checkpoint + 1
                walk.size += len(raw)
                walk.digest.update(raw)
                seen[want] = record["entry_hash"]
    if (why := _check_head(path, walk, seen, key, anchor is not None)) is not None:
        return broken(*why)
    witnesses = (("the catalog", anchor and (anchor.seq, anchor.entry_hash)),
                 ("the expected head", expected_head))
    for source, witness in witnesses:
        if witness is not None and seen.get(witness[0]) != witness[1]:
            seq, h = witness
            return broken(min(seq, walk.seq + 1), walk.seq + 1,
                          f"{source} recorded seq {seq} (hash {h[:12]}...), which the log "
                          f"{'does not reach' if seq > walk.seq else 'no longer holds'}: "
                          "truncated, rolled back, deleted or rewritten")
    return VerifyReport(True, len(seen), walk.checkpoints, walk.seq, walk.hash,
                        walk.since_checkpoint, anchor and anchor.seq)


def verify_home(home: Home, public_key=None, expected_head: tuple[int, str] | None = None
                ) -> VerifyReport:
    """`verify_chain` on `home`'s log, with the home's public key unless one is given, and
    against what the home's catalog last recorded of the log.

    Prefer a public key kept outside the home: someone able to rewrite the log and replace
    the key pair in the home would otherwise pass. A home with no log, no key and no record
    of a log in its catalog is ok (nothing was ever audited).
    """
    log, own = home.audit_log, home.root / "keys" / keys.PUBLIC_KEY
    anchor = read_home(home)
    if public_key is None:
        if not own.exists() and not log.exists() and not head_path(log).exists():
            if anchor is None:
                return VerifyReport(True, 0, 0, 0, GENESIS)
            return VerifyReport(False, 0, 0, 0, GENESIS, 0, anchor.seq, 1, 1,
                                f"the catalog recorded the audit log up to seq {anchor.seq}, "
                                "but the log, its head and the site key are gone (deleted)")
        public_key = own
    return verify_chain(log, public_key, expected_head, anchor)


def _check_line(raw: bytes, seq: int, prev_hash: str, key) -> tuple[dict, str | None]:
    """The record on the line holding `seq`, and why it is broken (None when it links)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return {}, "not a JSON record (damaged)"
    if not isinstance(record, dict):
        return {}, "not a JSON record (damaged)"
    return record, _why_broken(record, raw, seq, prev_hash, key)


def _why_broken(record: dict, raw: bytes, seq: int, prev_hash: str, key) -> str | None:
    if canonical(record) + b"\n" != raw:
        return "not in canonical form (the line was edited)"
    if record.get("seq") != seq:
        return (f"found seq {record.get('seq')} where {seq} was expected "
                "(a record was deleted, inserted or moved)")
    if record.get("prev_hash") != prev_hash:
        return "prev_hash does not match the previous record (chain broken)"
    if record.get("entry_hash") != entry_hash(record):
        return "entry_hash does not match the record's content (record altered)"
    kind = record.get("record")
    if kind == "checkpoint":
        if (record.get("head_seq"), record.get("head_hash")) != (seq - 1, prev_hash):
            return "checkpoint does not name the head just before it"
        if "format" not in record:  # written before format 2
            message = legacy_message(seq - 1, prev_hash)
        elif record["format"] == FORMAT:
            message = checkpoint_message(seq - 1, prev_hash)
        else:
            return f"checkpoint of unknown format {record['format']!r}"
        if not signed(key, message, record.get("signature")):
            return ("checkpoint signature does not verify (records before it were "
                    "rewritten, or another key signed it)")
    elif kind != "event":
        return f"unknown record kind {kind!r}"
    return None


def _check_head(log: Path, walk: _Walk, seen: dict[int, str], key, anchored: bool
                ) -> tuple[int, int, str] | None:
    """(seq, line, reason) when the signed head disagrees with the log, else None."""
    name, last = head_path(log).name, walk.seq
    try:
        head = read_head(log, key)
    except IntegrityError as e:
        return last, last, str(e)
    if head is None:
        if last == 0:
            return None
        return last, last, f"{name} is missing: the end of the log is unsigned"
    if head.format != FORMAT and anchored:
        return head.seq, last, (f"{name} is a format-1 head, but the log was appended to in "
                                "format 2 since (the catalog recorded it): an old or forged head")
    if head.seq > last:
        return (last + 1, last + 1,
                f"truncated: the log ends at seq {last} but the signed head is seq {head.seq}")
    if seen.get(head.seq, GENESIS) != head.hash:
        return head.seq, head.seq, "the record at the signed head differs from it (rewritten)"
    if head.seq < last:
        return (head.seq + 1, head.seq + 1,
                f"records {head.seq + 1}..{last} come after the signed head "
                "(appended without the site key, or a crash during an append)")
    if head.format == FORMAT and not _describes(head, walk):
        return last, last, f"{name} does not describe this log (cadence, size or digest differ)"
    return None


def _describes(head: Head, walk: _Walk) -> bool:
    """Whether every signed field of a format-2 head matches the log as read."""
    return (head.since_checkpoint, head.log_bytes, head.log_sha256) == (
        walk.since_checkpoint, walk.size, walk.digest.hexdigest())

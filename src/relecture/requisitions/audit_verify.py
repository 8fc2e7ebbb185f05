"""Check an audit log (see `audit`): every link, every checkpoint signature, the signed head.

`verify_chain` stops at the first broken link and says where (seq, line number) and why.
What it detects: a changed byte in any record (hash or canonical form), a record deleted,
inserted or moved (seq and prev_hash), a record rewritten with recomputed hashes (the next
checkpoint's or the head's signature no longer matches), lines removed at the end (the log
stops before the signed head in `audit.head`), records appended without the key (beyond the
signed head). A rollback of both the log and `audit.head` to an earlier signed state is
only caught with `expected_head`, a head kept outside the home.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from relecture.errors import IntegrityError
from relecture.requisitions import keys
from relecture.requisitions.audit import GENESIS, canonical, entry_hash, head_message, head_path
from relecture.settings import Home


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify_chain`: ok, or the first broken link."""

    ok: bool
    records: int  # records whose links were checked before stopping
    checkpoints: int  # valid signed checkpoints among them
    head_seq: int  # last valid record's seq (0 for an empty log)
    head_hash: str
    broken_seq: int | None = None  # seq expected at the broken place
    broken_line: int | None = None  # 1-based line number in the log
    reason: str | None = None

    def check(self) -> "VerifyReport":
        """Return self when ok; otherwise raise IntegrityError describing the break."""
        if not self.ok:
            raise IntegrityError(f"audit log broken at seq {self.broken_seq} "
                                 f"(line {self.broken_line}): {self.reason}")
        return self


def verify_chain(path: Path, public_key, expected_head: tuple[int, str] | None = None
                 ) -> VerifyReport:
    """Verify the log at `path` with `public_key` (key object, PEM bytes or PEM file).

    `expected_head` (seq, entry hash), when given, is a head recorded outside the home (from
    an evidence package or an earlier verify): the log must still hold it.
    """
    key = keys.load_public_key(public_key)
    seen: dict[int, str] = {}
    state = {"seq": 0, "hash": GENESIS, "line": 0, "checkpoints": 0}

    def broken(seq: int, line: int, reason: str) -> VerifyReport:
        return VerifyReport(False, len(seen), state["checkpoints"], state["seq"],
                            state["hash"], seq, line, reason)

    path = Path(path)
    if path.exists():
        with open(path, "rb") as f:
            for n, raw in enumerate(f, start=1):
                want = state["seq"] + 1
                record, why = _check_line(raw, want, state["hash"], key)
                if why is not None:
                    return broken(want, n, why)
                state.update(seq=want, hash=record["entry_hash"], line=n)
                state["checkpoints"] += record["record"] == "checkpoint"
                seen[want] = record["entry_hash"]
    if (why := _check_head(head_path(path), state["seq"], seen, key)) is not None:
        return broken(*why)
    if expected_head is not None:
        seq, h = expected_head
        if seen.get(seq) != h:
            return broken(seq, state["line"], f"the log does not hold the expected head "
                          f"(seq {seq}, hash {h[:12]}...): truncated, rolled back or rewritten")
    return VerifyReport(True, len(seen), state["checkpoints"], state["seq"], state["hash"])


def verify_home(home: Home, public_key=None, expected_head: tuple[int, str] | None = None
                ) -> VerifyReport:
    """`verify_chain` on `home`'s log, with the home's public key unless one is given.

    Prefer a public key kept outside the home: someone able to rewrite the log and replace
    the key pair in the home would otherwise pass. A home with no log and no key is ok.
    """
    log, own = home.audit_log, home.root / "keys" / keys.PUBLIC_KEY
    if public_key is None:
        if not own.exists() and not log.exists() and not head_path(log).exists():
            return VerifyReport(True, 0, 0, 0, GENESIS)
        public_key = own
    return verify_chain(log, public_key, expected_head)


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
        if not _signed(key, seq - 1, prev_hash, record.get("signature")):
            return ("checkpoint signature does not verify (records before it were "
                    "rewritten, or another key signed it)")
    elif kind != "event":
        return f"unknown record kind {kind!r}"
    return None


def _check_head(hp: Path, last_seq: int, seen: dict[int, str], key
                ) -> tuple[int, int, str] | None:
    """(seq, line, reason) when the signed head disagrees with the log, else None."""
    if not hp.exists():
        if last_seq == 0:
            return None
        return last_seq, last_seq, f"{hp.name} is missing: the end of the log is unsigned"
    try:
        head = json.loads(hp.read_bytes())
        seq, h, sig = int(head["seq"]), str(head["hash"]), head["signature"]
    except (ValueError, KeyError, TypeError):
        return last_seq, last_seq, f"{hp.name} is damaged"
    if not _signed(key, seq, h, sig):
        return seq, last_seq, f"{hp.name} signature does not verify"
    if seq > last_seq:
        return (last_seq + 1, last_seq + 1,
                f"truncated: the log ends at seq {last_seq} but the signed head is seq {seq}")
    if seen.get(seq, GENESIS) != h:
        return seq, seq, "the record at the signed head differs from it (rewritten)"
    if seq < last_seq:
        return (seq + 1, seq + 1, f"records {seq + 1}..{last_seq} come after the signed head "
                "(appended without the site key, or a crash during an append)")
    return None


def _signed(key, seq: int, h: str, signature) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(bytes.fromhex(signature), head_message(seq, h))
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True

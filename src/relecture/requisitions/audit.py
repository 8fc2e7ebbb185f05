"""The audit log: append-only, hash-chained JSON lines with Ed25519-signed checkpoints.

Every line of `Home.audit_log` is one record in canonical JSON (sorted keys, no spaces,
UTF-8) holding `seq` (1, 2, ...), `time` (UTC), `prev_hash` (the previous record's
`entry_hash`; 64 zeros for the first) and `entry_hash` = SHA-256 of the canonical JSON of
the record without `entry_hash`. Two kinds of record share the chain:

- `"record": "event"`: actor, role, action (`ACTIONS`), `objects` (references only, see
  `OBJECT_KEYS`), `legal_basis` (requisition reference + type, or null), reason, result
  count and `result`: "done"; "refused" for an action the access checks refused (then
  `objects` is what was asked, `reason` why it was refused, `role` null for a user the
  site does not know; see `refusals`); "interrupted" for an index job stopped before its
  end (Ctrl-C, an error, or killed and found by the next job: `objects` is what it had
  committed). Records written before `result` existed are done;
- `"record": "checkpoint"`: written every `checkpoint_every` events and on demand (each
  export); `signature` is the site key's Ed25519 signature of
  `audit_format.checkpoint_message(head_seq, head_hash)`, the record just before it;
  `"format": 2` (checkpoints without it were written in format 1 and are verified as such).

`<log>.head` (`audit.head`, see `audit_head`) signs every field of the latest head: last seq
and hash, the checkpoint cadence, the size and SHA-256 of the whole log. It is what makes
truncation of the last lines detectable (the log no longer reaches the signed head), and the
catalog's `audit_anchor` (the last record it saw appended) what makes a rollback or a
deletion of both detectable. Checkpoints and heads sign different messages
(`audit_format`), so neither can stand for the other.

Before any append the whole log is known good: when it is byte for byte what the signed head
describes (one SHA-256 pass) and the catalog agrees, it was verified by the append that
signed that head; otherwise it is verified record by record (`audit_verify`), and a broken
log is refused, so the tool never extends or re-signs a damaged, truncated or rolled-back
chain. Residual risks (documented): someone who can read the private key can rewrite
anything; the log, its head and the catalog all restored from an older copy are caught only
by a head kept elsewhere (an evidence package's `chain_head`, a printed `audit verify`); a
crash between the log write and the head write leaves the head one append behind, which
verify reports and appends refuse until an auditor has looked (no automatic repair).

Queries: the text an investigator typed may hold a plate, personal data that must not
outlive the footage (30 days) in a log kept for years and copied into evidence packages. A
plain SHA-256 would not hide it (French plates are ~5e8 strings, enumerated in minutes), so
the log stores an HMAC-SHA256 of the text under a site secret (`keys.query_key`): on site,
`query_reference` recomputes it to check that a given query was run; outside, it reveals
nothing. The kinds of filters used (cameras, plate, colours...) are stored in clear.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

from relecture.errors import IntegrityError
from relecture.requisitions import audit_anchor, keys
from relecture.requisitions.audit_format import (FORMAT, canonical, checkpoint_message,
                                                 entry_hash)
from relecture.requisitions.audit_head import read_head, write_head
from relecture.requisitions.site import ROLES
from relecture.settings import Home

ACTIONS = ("index_job_start", "index_job", "index_job_recovery", "search", "view", "export", "purge", "legal_hold", "config_change",
           "requisition_open", "requisition_close", "synopsis")
QUERY_FIELDS = ("cameras", "windows", "types", "colours", "plate", "text", "like")
QUERY_FIELDS += ("journey",)  # `relecture journey`: audited as a search of this kind
_HEX64 = re.compile(r"[0-9a-f]{64}")
# What `objects` may hold: references, never content (no plate text, no image, no path).
OBJECT_KEYS = {
    "sightings": lambda v: isinstance(v, list) and all(type(x) is int for x in v),
    "recordings": lambda v: isinstance(v, list) and all(_HEX64.fullmatch(str(x)) for x in v),
    "cameras": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "index_job": lambda v: type(v) is int or isinstance(v, str),
    "package_id": lambda v: isinstance(v, str),
    "query_hmac": lambda v: isinstance(v, str) and bool(_HEX64.fullmatch(v)),
    "query_fields": lambda v: isinstance(v, list) and set(v) <= set(QUERY_FIELDS),
    "config_sha256": lambda v: isinstance(v, str) and bool(_HEX64.fullmatch(v)),
    # How many rows of each kind an action touched (purge, legal hold): numbers only.
    "counts": lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and re.fullmatch(r"[a-z_]{1,40}", k) and type(n) is int
        for k, n in v.items()),
}


@dataclass(frozen=True)
class AuditEvent:
    """One audited action, as the caller describes it (seq, time and hashes are added)."""

    actor: str
    role: str | None  # None only for a refusal of a user the site does not declare
    action: str
    objects: Mapping[str, Any] = field(default_factory=dict)
    requisition: str | None = None  # reference of the legal basis
    requisition_type: str | None = None
    reason: str = ""
    result_count: int | None = None
    result: Literal["done", "refused", "interrupted"] = "done"


@dataclass(frozen=True)
class ChainHead:
    """A signed statement that the chain at `seq` ended with `hash`."""

    seq: int
    hash: str
    key_id: str
    signature: str  # hex Ed25519 signature of audit_format.checkpoint_message(seq, hash)
    format: int = FORMAT

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Tip:
    """The verified end of the log, which the next records follow."""

    seq: int
    hash: str
    since_checkpoint: int
    size: int
    digest: Any  # running SHA-256 of the log's bytes


def query_reference(home: Home, text: str, query: Any = None) -> dict:
    """`objects` entries for a search: HMAC of the query text and the kinds of its filters.

    The text is whitespace-normalised first; `query` is a parsed `search.query.Query` (or
    anything with the same attributes) whose non-empty fields are listed by name.
    """
    digest = hmac.new(keys.query_key(home), " ".join(text.split()).encode("utf-8"),
                      hashlib.sha256).hexdigest()
    kinds = [f for f in QUERY_FIELDS if query is not None and getattr(query, f, None) not in
             (None, (), [], "")]
    return {"query_hmac": digest, "query_fields": kinds}


def append(home: Home, event: AuditEvent, checkpoint_every: int = 100) -> dict:
    """Append `event` (and a checkpoint when `checkpoint_every` events have passed); return it.

    Raises IntegrityError, writing nothing, when the log does not verify.
    """
    _check_event(event)
    body = {"record": "event", "actor": event.actor, "role": event.role,
            "action": event.action, "objects": dict(event.objects),
            "legal_basis": ({"reference": event.requisition, "type": event.requisition_type}
                            if event.requisition else None),
            "reason": event.reason, "result_count": event.result_count,
            "result": event.result}
    with _locked(home) as (key, db, tip):
        records = [_chain(body, tip.seq, tip.hash)]
        since = tip.since_checkpoint + 1
        if since >= checkpoint_every:
            records.append(_checkpoint(key, records[-1]["seq"], records[-1]["entry_hash"],
                                       event.actor))
            since = 0
        _commit(home, key, db, tip, records, since)
    return records[0]


def checkpoint(home: Home, actor: str) -> ChainHead:
    """Append a signed checkpoint now (e.g. at each export) and return the head it signs."""
    with _locked(home) as (key, db, tip):
        record = _checkpoint(key, tip.seq, tip.hash, actor)
        _commit(home, key, db, tip, [record], 0)
    return ChainHead(record["head_seq"], record["head_hash"], record["key_id"],
                     record["signature"])


def read_records(log: Path) -> Iterator[dict]:
    """Each record of the log in order; IntegrityError on a line that is not JSON."""
    if not Path(log).exists():
        return
    with open(log, "rb") as f:
        for n, line in enumerate(f, start=1):
            try:
                yield json.loads(line)
            except ValueError:
                raise IntegrityError(f"{log}: line {n} is not a JSON record") from None


def extract(log: Path, requisition_ref: str) -> list[dict]:
    """The event records whose legal basis is `requisition_ref`, verbatim, in chain order."""
    return [r for r in read_records(log)
            if r.get("record") == "event"
            and (r.get("legal_basis") or {}).get("reference") == requisition_ref]


# -- writing ----------------------------------------------------------------------------------
def _check_event(event: AuditEvent) -> None:
    """Programming errors, not user errors: a wrong action, role or object reference."""
    if event.action not in ACTIONS:
        raise ValueError(f"unknown audit action {event.action!r}")
    if event.result not in ("done", "refused", "interrupted"):
        raise ValueError(f"unknown audit result {event.result!r}")
    if event.role not in ROLES and not (event.role is None and event.result == "refused"):
        raise ValueError(f"unknown role {event.role!r}")
    for k, v in event.objects.items():
        if k not in OBJECT_KEYS or not OBJECT_KEYS[k](v):
            raise ValueError(f"audit objects may hold references only; bad {k!r}")
    if event.result_count is not None and type(event.result_count) is not int:
        raise ValueError("result_count must be an int")


def _chain(body: dict, prev_seq: int, prev_hash: str) -> dict:
    """`body` placed after the record (prev_seq, prev_hash): seq, time, prev_hash, entry_hash."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {"seq": prev_seq + 1, "time": now, **body, "prev_hash": prev_hash}
    record["entry_hash"] = entry_hash(record)
    return record


def _checkpoint(key, seq: int, h: str, actor: str) -> dict:
    """A checkpoint record after (seq, h), signing that the chain reached it."""
    return _chain({"record": "checkpoint", "format": FORMAT, "actor": actor, "head_seq": seq,
                   "head_hash": h, "key_id": keys.key_id(key.public_key()),
                   "signature": key.sign(checkpoint_message(seq, h)).hex()}, seq, h)


@contextmanager
def _locked(home: Home):
    """Hold the catalog and the audit lock; yield the signing key, the catalog connection
    and the verified end of the log (IntegrityError when the log does not verify)."""
    home.root.mkdir(parents=True, exist_ok=True)
    with audit_anchor.writable(home) as db, open(home.root / "audit.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            key = keys.signing_key(home)
            yield key, db, _verified_tip(home.audit_log, key.public_key(),
                                         audit_anchor.read(db))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _verified_tip(log: Path, public_key, anchor: audit_anchor.Anchor | None) -> _Tip:
    """The end of a log known good: byte for byte what the signed head describes (the
    append that signed it had verified it) with the catalog agreeing, else verified in full."""
    from relecture.requisitions.audit_verify import verify_chain

    size, digest = _digest(log)
    try:
        head = read_head(log, public_key)
    except IntegrityError:
        head = None  # the full verification below names what is wrong with it
    if head is not None and head.format == FORMAT and (head.log_bytes, head.log_sha256) == (
            size, digest.hexdigest()) and anchor == audit_anchor.Anchor(head.seq, head.hash):
        return _Tip(head.seq, head.hash, head.since_checkpoint, size, digest)
    report = verify_chain(log, public_key, anchor=anchor)
    if not report.ok:
        raise IntegrityError(f"audit log broken at seq {report.broken_seq} (line "
                             f"{report.broken_line}): {report.reason}; refusing to append "
                             "(run `relecture audit verify`)")
    return _Tip(report.head_seq, report.head_hash, report.since_checkpoint, size, digest)


def _digest(log: Path) -> tuple[int, Any]:
    """(size, running SHA-256) of the log's bytes; (0, empty) when there is no log."""
    digest, size = hashlib.sha256(), 0
    if log.exists():
        with open(log, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
                size += len(block)
    return size, digest


def _commit(home: Home, key, db, tip: _Tip, records: list[dict], since_checkpoint: int
            ) -> None:
    """Append `records` durably, sign and atomically replace the head, then record the new
    last record in the catalog."""
    data = b"".join(canonical(r) + b"\n" for r in records)
    fd = os.open(home.audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    tip.digest.update(data)
    last = records[-1]
    write_head(home.audit_log, key, last["seq"], last["entry_hash"], since_checkpoint,
               tip.size + len(data), tip.digest.hexdigest())
    audit_anchor.record(db, last["seq"], last["entry_hash"])

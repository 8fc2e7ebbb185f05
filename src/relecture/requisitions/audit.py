"""The audit log: append-only, hash-chained JSON lines with Ed25519-signed checkpoints.

Every line of `Home.audit_log` is one record in canonical JSON (sorted keys, no spaces,
UTF-8) holding `seq` (1, 2, ...), `time` (UTC), `prev_hash` (the previous record's
`entry_hash`; 64 zeros for the first) and `entry_hash` = SHA-256 of the canonical JSON of
the record without `entry_hash`. Two kinds of record share the chain:

- `"record": "event"`: actor, role, action (`ACTIONS`), `objects` (references only, see
  `OBJECT_KEYS`), `legal_basis` (requisition reference + type, or null), reason and
  result count;
- `"record": "checkpoint"`: written every `checkpoint_every` events and on demand (each
  export); `signature` is the site key's Ed25519 signature of `head_message(head_seq,
  head_hash)`, the chain head just before it.

`<log>.head` (`audit.head`) holds the latest head (seq, hash) signed the same way, rewritten
atomically after every append. It is what makes truncation of the last lines detectable:
the log no longer reaches the signed head. An append first checks that the log's last
record matches the signed head and refuses otherwise, so the tool never re-signs a
truncated or forged tail. Residual risks (documented, not solvable inside one directory):
someone who can read the private key can rewrite anything; someone who saves an old
`audit.head` and later truncates the log back to it (a rollback) is detected only by a head
kept elsewhere (an evidence package's `chain_head`, a printed `audit verify`), which
`audit_verify.verify_chain(..., expected_head=...)` accepts; a crash between the log write
and the head write leaves the head one append behind, which verify reports and appends
refuse until an auditor has looked (no automatic repair exists yet).

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
from typing import Any, Iterator, Mapping

from relecture.errors import IntegrityError
from relecture.requisitions import keys
from relecture.requisitions.files import write_atomic
from relecture.requisitions.site import ROLES
from relecture.settings import Home

GENESIS = "0" * 64
ACTIONS = ("index_job", "search", "view", "export", "purge", "legal_hold", "config_change",
           "requisition_open", "requisition_close")
QUERY_FIELDS = ("cameras", "windows", "types", "colours", "plate", "text", "like")
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
    role: str
    action: str
    objects: Mapping[str, Any] = field(default_factory=dict)
    requisition: str | None = None  # reference of the legal basis
    requisition_type: str | None = None
    reason: str = ""
    result_count: int | None = None


@dataclass(frozen=True)
class ChainHead:
    """A signed statement that the chain at `seq` ended with `hash`."""

    seq: int
    hash: str
    key_id: str
    signature: str  # hex Ed25519 signature of head_message(seq, hash)

    def as_dict(self) -> dict:
        return asdict(self)


def canonical(obj: Any) -> bytes:
    """The canonical JSON bytes that are hashed and written: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of `record` without its `entry_hash`."""
    body = {k: v for k, v in record.items() if k != "entry_hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def head_message(seq: int, head_hash: str) -> bytes:
    """The bytes a checkpoint or head signature covers."""
    return b"relecture-audit-head/1\n" + canonical({"hash": head_hash, "seq": seq})


def head_path(log: Path) -> Path:
    """Where the signed head of `log` lives: `audit.jsonl` -> `audit.head`."""
    return Path(log).with_suffix(".head")


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

    Raises IntegrityError when the log's tail does not match its signed head.
    """
    _check_event(event)
    body = {"record": "event", "actor": event.actor, "role": event.role,
            "action": event.action, "objects": dict(event.objects),
            "legal_basis": ({"reference": event.requisition, "type": event.requisition_type}
                            if event.requisition else None),
            "reason": event.reason, "result_count": event.result_count}
    with _locked(home) as (key, head):
        records = [_chain(body, head)]
        since = head.get("since_checkpoint", 0) + 1
        if since >= checkpoint_every:
            records.append(_chain(_checkpoint_body(key, records[-1], event.actor),
                                  records[-1]))
            since = 0
        _commit(home, key, records, since)
    return records[0]


def checkpoint(home: Home, actor: str) -> ChainHead:
    """Append a signed checkpoint now (e.g. at each export) and return the head it signs."""
    with _locked(home) as (key, head):
        record = _chain(_checkpoint_body(key, head, actor), head)
        _commit(home, key, [record], 0)
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
    if event.role not in ROLES:
        raise ValueError(f"unknown role {event.role!r}")
    for k, v in event.objects.items():
        if k not in OBJECT_KEYS or not OBJECT_KEYS[k](v):
            raise ValueError(f"audit objects may hold references only; bad {k!r}")
    if event.result_count is not None and type(event.result_count) is not int:
        raise ValueError("result_count must be an int")


def _chain(body: dict, prev: Mapping[str, Any]) -> dict:
    """`body` placed after `prev` (a record or the head): seq, time, prev_hash, entry_hash."""
    prev_seq, prev_hash = prev.get("seq", 0), prev.get("entry_hash", prev.get("hash", GENESIS))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {"seq": prev_seq + 1, "time": now, **body, "prev_hash": prev_hash}
    record["entry_hash"] = entry_hash(record)
    return record


def _checkpoint_body(key, prev: Mapping[str, Any], actor: str) -> dict:
    seq, h = prev.get("seq", 0), prev.get("entry_hash", prev.get("hash", GENESIS))
    return {"record": "checkpoint", "actor": actor, "head_seq": seq, "head_hash": h,
            "key_id": keys.key_id(key.public_key()),
            "signature": key.sign(head_message(seq, h)).hex()}


@contextmanager
def _locked(home: Home):
    """Hold the audit lock; yield the signing key and the verified current head."""
    home.root.mkdir(parents=True, exist_ok=True)
    with open(home.root / "audit.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            key = keys.signing_key(home)
            yield key, _current_head(home.audit_log, key.public_key())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _current_head(log: Path, public_key) -> dict:
    """The signed head, after checking that the log's last record is exactly it."""
    from cryptography.exceptions import InvalidSignature

    hp, last = head_path(log), _last_record(log)
    if not hp.exists():
        if last is None:
            return {"seq": 0, "hash": GENESIS}
        raise IntegrityError(f"{hp} is missing: refusing to extend an unsigned audit log "
                             "(run `relecture audit verify`)")
    head = json.loads(hp.read_bytes())
    try:
        public_key.verify(bytes.fromhex(head["signature"]), head_message(head["seq"],
                                                                         head["hash"]))
    except (InvalidSignature, KeyError, ValueError):
        raise IntegrityError(f"{hp}: bad signature (run `relecture audit verify`)") from None
    tail = (last or {}).get("seq", 0), (last or {}).get("entry_hash", GENESIS)
    if tail != (head["seq"], head["hash"]):
        raise IntegrityError(f"{log}: last record (seq {tail[0]}) does not match the signed "
                             f"head (seq {head['seq']}); refusing to append "
                             "(run `relecture audit verify`)")
    return head


def _last_record(log: Path) -> dict | None:
    """The last line of the log, parsed, read from the end (the log may be large)."""
    if not log.exists() or log.stat().st_size == 0:
        return None
    with open(log, "rb") as f:
        pos, chunk = f.seek(0, os.SEEK_END), b""
        while pos > 0 and chunk.count(b"\n") < 2:
            step = min(4096, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step) + chunk
    try:
        if not chunk.endswith(b"\n"):
            raise ValueError
        return json.loads(chunk[:-1].rsplit(b"\n", 1)[-1])
    except ValueError:
        raise IntegrityError(f"{log}: the last line is not a whole record; refusing to append "
                             "(run `relecture audit verify`)") from None


def _commit(home: Home, key, records: list[dict], since_checkpoint: int) -> None:
    """Append `records` durably, then sign and atomically replace the head."""
    data = b"".join(canonical(r) + b"\n" for r in records)
    fd = os.open(home.audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    last = records[-1]
    head = {"seq": last["seq"], "hash": last["entry_hash"],
            "signature": key.sign(head_message(last["seq"], last["entry_hash"])).hex(),
            "key_id": keys.key_id(key.public_key()),
            "since_checkpoint": since_checkpoint}  # bookkeeping for the cadence, unsigned
    write_atomic(head_path(home.audit_log), canonical(head))

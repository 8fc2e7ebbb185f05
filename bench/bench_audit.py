"""Audit log cost on a long log: full verification, and an append's check before it writes.

    python bench/bench_audit.py --events 50000 [--home /tmp/bench-audit]

The log is written directly in the current format (search events of a realistic size, a
signed checkpoint every 100 events, a signed head, the catalog's anchor), then timed:
`verify_home` (every record, every checkpoint), five appends on the fast path (the log is
what the head signs: one SHA-256 pass), and one append after the catalog was left behind
(as after a crash), which verifies the whole log first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path

from relecture.catalog import Catalog
from relecture.requisitions import audit, audit_anchor, keys
from relecture.requisitions.audit import AuditEvent
from relecture.requisitions.audit_format import canonical, checkpoint_message, entry_hash
from relecture.requisitions.audit_head import write_head
from relecture.requisitions.audit_verify import verify_home
from relecture.settings import Home


def build(home: Home, events: int) -> int:
    """Write a log of `events` search events with a checkpoint every 100; returns records."""
    key = keys.signing_key(home)
    kid, out = keys.key_id(key.public_key()), bytearray()
    seq, prev, since = 0, "0" * 64, 0

    def add(body: dict) -> None:
        nonlocal seq, prev
        r = {"seq": seq + 1, "time": "2026-01-02T03:04:05.123456Z", **body, "prev_hash": prev}
        r["entry_hash"] = entry_hash(r)
        out.extend(canonical(r) + b"\n")
        seq, prev = r["seq"], r["entry_hash"]

    for i in range(events):
        add({"record": "event", "actor": "dupont", "role": "investigator", "action": "search",
             "objects": {"query_hmac": "ab" * 32, "query_fields": ["cameras", "windows"],
                         "sightings": list(range(i, i + 20)), "cameras": ["12"]},
             "legal_basis": {"reference": "PV 2024/00123", "type": "77-1-1"},
             "reason": "vol de véhicule", "result_count": 20})
        since += 1
        if since == 100:
            add({"record": "checkpoint", "format": 2, "actor": "dupont", "head_seq": seq,
                 "head_hash": prev, "key_id": kid,
                 "signature": key.sign(checkpoint_message(seq, prev)).hex()})
            since = 0
    home.audit_log.write_bytes(bytes(out))
    write_head(home.audit_log, key, seq, prev, since, len(out), hashlib.sha256(out).hexdigest())
    with Catalog(home) as cat:
        audit_anchor.record(cat.db, seq, prev)
    return seq


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-audit"))
    args = ap.parse_args()
    shutil.rmtree(args.home, ignore_errors=True)
    home = Home(args.home)
    records = build(home, args.events)
    print(f"log: {records} records, {home.audit_log.stat().st_size / 1e6:.1f} MB")
    t = time.perf_counter()
    assert verify_home(home).ok
    print(f"audit verify (full): {time.perf_counter() - t:.2f} s")
    event = AuditEvent("dupont", "investigator", "search", {"sightings": [1, 2]})
    times = []
    for _ in range(5):
        t = time.perf_counter()
        audit.append(home, event)
        times.append((time.perf_counter() - t) * 1000)
    print("append, log as signed: " + " ".join(f"{x:.0f}" for x in times) + " ms")
    third = json.loads(home.audit_log.read_bytes().split(b"\n", 3)[2])
    with Catalog(home) as cat:
        audit_anchor.record(cat.db, 3, third["entry_hash"])
    t = time.perf_counter()
    audit.append(home, event)
    print(f"append, catalog behind (full verify first): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()

"""The audit log: chained, signed, tamper-evident, safe under concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import stat
from pathlib import Path

import pytest

from relecture.errors import IntegrityError, UsageError
from relecture.requisitions import audit, audit_anchor, keys
from relecture.requisitions.audit import AuditEvent
from relecture.requisitions.audit_format import checkpoint_message, legacy_message
from relecture.requisitions.audit_head import head_path
from relecture.requisitions.audit_verify import verify_chain, verify_home
from relecture.settings import Home


def _event(i: int = 0, ref: str | None = "PV-2024-001", **kw) -> AuditEvent:
    return AuditEvent(actor="dupont", role="investigator", action="search",
                      objects={"sightings": [i, i + 1]}, requisition=ref,
                      requisition_type="77-1-1" if ref else None, reason="vol", result_count=2,
                      **kw)


def _fill(home: Home, n: int, every: int = 5) -> None:
    for i in range(n):
        audit.append(home, _event(i), checkpoint_every=every)


def _lines(home: Home) -> list[bytes]:
    return home.audit_log.read_bytes().splitlines(keepends=True)


def _write(home: Home, lines: list[bytes]) -> None:
    home.audit_log.write_bytes(b"".join(lines))


def _verify(home: Home, **kw):
    return verify_chain(home.audit_log, keys.public_key_path(home), **kw)


@pytest.fixture(scope="module")
def _built(tmp_path_factory) -> Path:
    h = Home(tmp_path_factory.mktemp("audit") / "home")
    _fill(h, 12)
    return h.root


@pytest.fixture
def log(home, _built) -> Home:
    """A log of 12 events with checkpoints after events 5 and 10 (14 records); a fresh copy
    of one built per module, free to tamper with."""
    return Home(shutil.copytree(_built, home))


def test_fresh_log_chains_checkpoints_and_verifies(log):
    records = [json.loads(line) for line in _lines(log)]
    assert [r["seq"] for r in records] == list(range(1, 15))
    assert [r["seq"] for r in records if r["record"] == "checkpoint"] == [6, 12]
    assert records[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in zip(records, records[1:]))
    report = _verify(log)
    assert report.ok and report.records == 14 and report.checkpoints == 2
    assert report.head_seq == 14 and report.head_hash == records[-1]["entry_hash"]
    assert report.check() is report


def test_site_key_is_private_and_public_key_is_exported(log):
    mode = stat.S_IMODE(os.stat(log.root / "keys" / keys.SIGNING_KEY).st_mode)
    assert mode == 0o600
    assert keys.public_key_path(log).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


@pytest.mark.parametrize("line", range(14))
def test_a_flipped_byte_anywhere_is_detected(log, line):
    lines = _lines(log)
    original = lines[line]
    for pos in range(0, len(original) - 1, 7):  # every 7th byte of the line, newline kept
        damaged = bytearray(original)
        damaged[pos] ^= 0x01
        _write(log, lines[:line] + [bytes(damaged)] + lines[line + 1:])
        report = _verify(log)
        assert not report.ok, f"flip at byte {pos} of line {line + 1} went unnoticed"
        assert report.broken_line == line + 1
    _write(log, lines)
    assert _verify(log).ok


def test_a_deleted_middle_record_is_detected(log):
    lines = _lines(log)
    _write(log, lines[:4] + lines[5:])
    report = _verify(log)
    assert not report.ok and report.broken_seq == 5 and report.broken_line == 5
    assert "deleted" in report.reason


@pytest.mark.parametrize("keep", [12, 13, 8])
def test_truncation_at_the_end_is_detected(log, keep):
    """Right after a checkpoint (12), after the last checkpoint (13), before it (8)."""
    _write(log, _lines(log)[:keep])
    report = _verify(log)
    assert not report.ok and "truncated" in report.reason
    cut = log.audit_log.read_bytes()
    with pytest.raises(IntegrityError, match="truncated.*refusing to append"):
        audit.append(log, _event())  # the tool must not re-sign a truncated log
    assert log.audit_log.read_bytes() == cut


def test_an_emptied_log_is_detected(log):
    log.audit_log.write_bytes(b"")
    assert "truncated" in _verify(log).reason


def test_reordered_records_are_detected(log):
    lines = _lines(log)
    lines[2], lines[3] = lines[3], lines[2]
    _write(log, lines)
    report = _verify(log)
    assert not report.ok and report.broken_line == 3


def _forge(home: Home, index: int) -> None:
    """Rewrite record `index` and recompute every later link, as someone without the key."""
    records = [json.loads(line) for line in _lines(home)]
    records[index]["result_count"] = 0
    for i in range(index, len(records)):
        r = records[i]
        if i > 0:
            r["prev_hash"] = records[i - 1]["entry_hash"]
        if r["record"] == "checkpoint":
            r["head_hash"] = r["prev_hash"]  # the signature cannot follow
        r["entry_hash"] = audit.entry_hash(r)
    _write(home, [audit.canonical(r) + b"\n" for r in records])


@pytest.mark.parametrize("index, reason", [(2, "checkpoint signature"),
                                           (12, "signed head")])
def test_a_rewritten_record_with_recomputed_hashes_is_detected(log, index, reason):
    _forge(log, index)
    report = _verify(log)
    assert not report.ok and reason in report.reason


def test_records_appended_without_the_key_are_detected(log):
    records = [json.loads(line) for line in _lines(log)]
    extra = {**records[-2], "seq": 15, "prev_hash": records[-1]["entry_hash"]}
    extra["entry_hash"] = audit.entry_hash(extra)
    _write(log, _lines(log) + [audit.canonical(extra) + b"\n"])
    report = _verify(log)
    assert not report.ok and report.broken_seq == 15 and "after the signed head" in report.reason
    with pytest.raises(IntegrityError):
        audit.append(log, _event())


def test_another_key_does_not_verify(log, tmp_path):
    other = Home(tmp_path / "other")
    report = verify_chain(log.audit_log, keys.public_pem(keys.signing_key(other).public_key()))
    assert not report.ok and "signature" in report.reason


def test_a_missing_head_file_is_detected(log):
    head_path(log.audit_log).unlink()
    assert "missing" in _verify(log).reason


def test_a_rollback_of_log_and_head_is_caught_by_the_catalog(log):
    saved_log, saved_head = log.audit_log.read_bytes(), head_path(log.audit_log).read_bytes()
    _fill(log, 3)
    kept = audit.checkpoint(log, "auditor")  # e.g. the head copied into an evidence package
    log.audit_log.write_bytes(saved_log)
    head_path(log.audit_log).write_bytes(saved_head)
    assert _verify(log).ok  # log and head alone are consistent...
    report = verify_home(log)  # ...but the catalog saw the log reach further
    assert not report.ok and f"the catalog recorded seq {kept.seq + 1}" in report.reason
    assert report.anchor_seq == kept.seq + 1
    with pytest.raises(IntegrityError, match="refusing to append"):
        audit.append(log, _event())
    report = _verify(log, expected_head=(kept.seq, kept.hash))
    assert not report.ok and "expected head" in report.reason


def test_checkpoint_on_demand_signs_the_current_head(log):
    last = json.loads(_lines(log)[-1])
    head = audit.checkpoint(log, "dupont")
    assert (head.seq, head.hash) == (last["seq"], last["entry_hash"])
    keys.load_public_key(keys.public_key_path(log)).verify(
        bytes.fromhex(head.signature), checkpoint_message(head.seq, head.hash))
    assert _verify(log, expected_head=(head.seq, head.hash)).ok


def test_extract_returns_only_the_requisition_events(log):
    audit.append(log, _event(100, ref="PV-2024-002"))
    audit.append(log, _event(200, ref=None))
    got = audit.extract(log.audit_log, "PV-2024-002")
    assert [r["objects"]["sightings"] for r in got] == [[100, 101]]
    assert len(audit.extract(log.audit_log, "PV-2024-001")) == 12


def test_queries_are_logged_as_keyed_hashes_not_text(home, tmp_path):
    from datetime import datetime

    from relecture.search.query import parse_query

    h = Home(home)
    text = "voiture rouge plaque AB-123-CD hier 14h-16h"
    ref = audit.query_reference(h, text, parse_query(text, datetime(2024, 3, 5, 10, 0)))
    audit.append(h, AuditEvent("dupont", "investigator", "search", ref, "PV-1", "77-1-1",
                               "vol", 3))
    data = h.audit_log.read_bytes()
    assert b"AB-123-CD" not in data and b"AB123CD" not in data and b"rouge" not in data
    assert ref["query_fields"] == ["windows", "types", "colours", "plate"]
    assert audit.query_reference(h, "  " + text.replace(" ", "  "))["query_hmac"] == \
        ref["query_hmac"]  # whitespace does not matter: the same query is recognised
    assert audit.query_reference(Home(tmp_path / "other"), text)["query_hmac"] != \
        ref["query_hmac"]  # keyed by a site secret: not recomputable from the log alone


def test_content_in_objects_is_refused(home):
    with pytest.raises(ValueError, match="references only"):
        audit.append(Home(home), AuditEvent("dupont", "investigator", "search",
                                            {"plate": "AB123CD"}))
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.append(Home(home), AuditEvent("dupont", "investigator", "browse"))


def _append_many(root: str, n: int) -> None:
    home = Home(Path(root))
    for i in range(n):
        audit.append(home, _event(i), checkpoint_every=7)


def test_concurrent_writers_never_break_the_chain(home):
    ctx = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads
    procs = [ctx.Process(target=_append_many, args=(str(home), 15)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    h = Home(home)
    records = [json.loads(line) for line in _lines(h)]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert sum(r["record"] == "event" for r in records) == 45
    assert sum(r["record"] == "checkpoint" for r in records) == 45 // 7
    assert _verify(h).ok


def test_verify_home_uses_the_home_key_and_accepts_a_fresh_home(home, tmp_path):
    h = Home(home)
    assert verify_home(h).ok and verify_home(h).records == 0
    _fill(h, 3)
    assert verify_home(h).records == 3
    with pytest.raises(UsageError, match="cannot read the public key"):
        verify_home(h, tmp_path / "missing.pem")
    h.audit_log.write_bytes(b"")
    with pytest.raises(IntegrityError, match="truncated"):
        verify_home(h).check()


def _legacy_log(home: Home, events: int, every: int = 3) -> None:
    """A log as format 1 wrote it: checkpoints and head sign the same message, the cadence
    in the head unsigned, no catalog."""
    key = keys.signing_key(home)
    kid, records, since = keys.key_id(key.public_key()), [], 0

    def chain(body):
        prev = records[-1] if records else {"seq": 0, "entry_hash": "0" * 64}
        r = {"seq": prev["seq"] + 1, "time": "2024-01-02T03:04:05.000000Z", **body,
             "prev_hash": prev["entry_hash"]}
        r["entry_hash"] = audit.entry_hash(r)
        records.append(r)
        return r

    def legacy_sig(r):
        return key.sign(legacy_message(r["seq"], r["entry_hash"])).hex()

    for i in range(events):
        last = chain({"record": "event", "actor": "dupont", "role": "investigator",
                      "action": "search", "objects": {"sightings": [i]}, "legal_basis": None,
                      "reason": "vol", "result_count": 1})
        since += 1
        if since == every:
            chain({"record": "checkpoint", "actor": "dupont", "head_seq": last["seq"],
                   "head_hash": last["entry_hash"], "key_id": kid,
                   "signature": legacy_sig(last)})
            since = 0
    _write(home, [audit.canonical(r) + b"\n" for r in records])
    head_path(home.audit_log).write_bytes(audit.canonical(
        {"seq": records[-1]["seq"], "hash": records[-1]["entry_hash"], "key_id": kid,
         "signature": legacy_sig(records[-1]), "since_checkpoint": since}))


def test_a_format_1_log_still_verifies_and_the_next_append_moves_it_to_format_2(home):
    h = Home(home)
    _legacy_log(h, 7)  # e e e cp e e e cp e: 9 records, 2 checkpoints
    report = verify_home(h)
    assert report.ok and (report.records, report.checkpoints) == (9, 2)
    audit.append(h, _event(), checkpoint_every=3)
    head = json.loads(head_path(h.audit_log).read_bytes())
    assert head["format"] == 2 and head["seq"] == 10 and head["since_checkpoint"] == 2
    report = verify_home(h)
    assert report.ok and report.anchor_seq == 10
    audit.append(h, _event(), checkpoint_every=3)  # the cadence carried over: a checkpoint
    assert [r["record"] for r in audit.read_records(h.audit_log)][-2:] == ["event",
                                                                            "checkpoint"]
    assert verify_home(h).ok


def test_a_format_1_head_is_refused_once_the_catalog_recorded_the_log(home):
    """The old weakness: a legacy checkpoint's signature is a valid format-1 head."""
    h = Home(home)
    _legacy_log(h, 7)
    audit.append(h, _event(), checkpoint_every=3)
    records = [json.loads(line) for line in _lines(h)]
    cp = records[7]  # the checkpoint after event 6 (seq 8)
    _write(h, _lines(h)[:7])
    head_path(h.audit_log).write_bytes(audit.canonical(
        {"seq": cp["head_seq"], "hash": cp["head_hash"], "key_id": cp["key_id"],
         "signature": cp["signature"], "since_checkpoint": 0}))
    assert _verify(h).ok  # without the catalog, the forgery passes, as it did before
    report = verify_home(h)
    assert not report.ok and "format-1 head" in report.reason


def test_a_catalog_left_behind_by_a_crash_is_brought_level_by_the_next_append(log):
    from relecture.catalog import Catalog

    with Catalog(log) as cat:  # as if the process died between the log and catalog writes
        audit_anchor.record(cat.db, 3, json.loads(_lines(log)[2])["entry_hash"])
    assert verify_home(log).ok  # the catalog is a lower bound: the log holds what it says
    audit.append(log, _event())
    assert verify_home(log).anchor_seq == 15


def test_a_head_whose_log_digest_is_stale_is_verified_in_full_before_appending(log):
    """The fast path trusts only a log identical to what the head signs; anything else is
    verified record by record, so a rewritten middle is caught even with a valid head."""
    lines = _lines(log)
    record = json.loads(lines[1])
    record["reason"] = "changed"  # recomputed hash, not the next link's prev_hash
    record["entry_hash"] = audit.entry_hash(record)
    _write(log, lines[:1] + [audit.canonical(record) + b"\n"] + lines[2:])
    with pytest.raises(IntegrityError, match="seq 3 .*prev_hash.*refusing to append"):
        audit.append(log, _event())

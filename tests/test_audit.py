"""The audit log: chained, signed, tamper-evident, safe under concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from relecture.errors import IntegrityError, UsageError
from relecture.requisitions import audit, keys
from relecture.requisitions.audit import AuditEvent
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


@pytest.fixture
def log(home) -> Home:
    """A log of 12 events with checkpoints after events 5 and 10 (14 records)."""
    h = Home(home)
    _fill(h, 12)
    return h


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
    with pytest.raises(IntegrityError, match="does not match the signed head"):
        audit.append(log, _event())  # the tool must not re-sign a truncated log


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
    audit.head_path(log.audit_log).unlink()
    assert "missing" in _verify(log).reason


def test_a_rollback_is_caught_only_with_a_head_kept_elsewhere(log):
    saved_log, saved_head = log.audit_log.read_bytes(), audit.head_path(log.audit_log).read_bytes()
    _fill(log, 3)
    kept = audit.checkpoint(log, "auditor")  # e.g. the head copied into an evidence package
    log.audit_log.write_bytes(saved_log)
    audit.head_path(log.audit_log).write_bytes(saved_head)
    assert _verify(log).ok  # consistent rollback: invisible from inside the home
    report = _verify(log, expected_head=(kept.seq, kept.hash))
    assert not report.ok and "expected head" in report.reason


def test_checkpoint_on_demand_signs_the_current_head(log):
    last = json.loads(_lines(log)[-1])
    head = audit.checkpoint(log, "dupont")
    assert (head.seq, head.hash) == (last["seq"], last["entry_hash"])
    keys.load_public_key(keys.public_key_path(log)).verify(
        bytes.fromhex(head.signature), audit.head_message(head.seq, head.hash))
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
    procs = [ctx.Process(target=_append_many, args=(str(home), 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    h = Home(home)
    records = [json.loads(line) for line in _lines(h)]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert sum(r["record"] == "event" for r in records) == 120
    assert sum(r["record"] == "checkpoint" for r in records) == 120 // 7
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

"""`relecture audit verify | show`: check the hash chain, read a requisition's extract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import HomeOption, RequisitionOption, _home, _run, out
from relecture.errors import UsageError

app = typer.Typer(help="Verify the audit log, or read a requisition's audit entries.",
                  no_args_is_help=True, rich_markup_mode="markdown")


def _expected(text: Optional[str]):
    if not text:
        return None
    seq, _, h = text.partition(":")
    if not seq.isdigit() or len(h) != 64:
        raise UsageError(f"--expected-head {text!r}: use SEQ:HASH as printed by a previous "
                         "`relecture audit verify`")
    return int(seq), h.lower()


@app.command("verify")
def verify_cmd(
    public_key: Optional[Path] = typer.Option(
        None, "--public-key", metavar="PEM", exists=True, dir_okay=False,
        help="The site's public key, from a copy kept outside the home (recommended)."),
    expected_head: Optional[str] = typer.Option(
        None, "--expected-head", metavar="SEQ:HASH",
        help="A head printed by an earlier verify or found in an evidence package: the log "
             "must still hold it (detects a rollback)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Check every link of the audit log, every signed checkpoint, the signed head, and
    that the log still holds the last record the catalog saw appended.

    Prints the head (SEQ:HASH) to keep outside the home. On a broken log (tampered,
    truncated, rolled back to an earlier state, or deleted while the catalog had seen
    entries), names the first broken record (seq and line) and why, and exits 4. Without
    --public-key the home's own copy of the key is used, which cannot detect someone who
    replaced the key pair too.

    Examples:

        relecture audit verify --public-key /media/usb/audit_ed25519.pub.pem

        relecture audit verify --expected-head 1234:5f2a...e9

    Exit codes: 0 intact, 2 bad option, 4 broken (tampered, truncated, rewritten).
    """
    from relecture.requisitions.audit_verify import verify_home

    def go():
        return verify_home(_home(home), public_key, _expected(expected_head))

    report = _run(go)
    d = {"ok": report.ok, "records": report.records, "checkpoints": report.checkpoints,
         "head": f"{report.head_seq}:{report.head_hash}", "catalog_seq": report.anchor_seq,
         "broken_seq": report.broken_seq,
         "broken_line": report.broken_line, "reason": report.reason}
    if as_json:
        print(json.dumps(d, indent=2))
        if not report.ok:
            raise typer.Exit(4)
        return
    if not report.ok:
        _run(report.check)  # one line naming the seq, the line and why; exit 4
    seen = (f"the catalog last recorded seq {report.anchor_seq}" if report.anchor_seq
            else "the catalog holds no record of the log yet")
    out.print(f"audit log intact: {report.records} records, {report.checkpoints} signed "
              f"checkpoints; {seen}\nhead {d['head']}", highlight=False)


def _objects(o: dict) -> str:
    parts = []
    if o.get("sightings"):
        parts.append("sightings " + ", ".join(f"#{i}" for i in o["sightings"][:12])
                     + (" ..." if len(o["sightings"]) > 12 else ""))
    if o.get("cameras"):
        parts.append("cameras " + ", ".join(o["cameras"]))
    if o.get("package_id"):
        parts.append(f"package {o['package_id']}")
    if o.get("query_hmac"):
        fields = ", ".join(o.get("query_fields") or []) or "no filter"
        parts.append(f"query {o['query_hmac'][:12]} ({fields})")
    if o.get("counts"):
        parts.append(", ".join(f"{k} {v}" for k, v in o["counts"].items()))
    if o.get("recordings"):
        parts.append(f"{len(o['recordings'])} recording(s)")
    return "; ".join(parts)


@app.command("show")
def show_cmd(
    requisition: Optional[str] = RequisitionOption,
    as_json: bool = typer.Option(False, "--json", help="Print the records verbatim (JSON list)."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Show every audit entry made under a requisition (opening, searches, views, exports,
    holds, closing), in order. Entries hold references, never content: a query is an HMAC.

    Example: relecture audit show -r "PV 2024/00123" --json
    """
    from relecture.requisitions.session import Session

    def go():
        if not requisition:
            raise UsageError("name the requisition: --requisition REF")
        return Session.open(_home(home), requisition).audit_extract()

    records = _run(go)
    if as_json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    t = Table(title=f"audit of requisition {requisition}: {len(records)} entries")
    for c in ("seq", "time (UTC)", "actor", "role", "action", "results", "objects"):
        t.add_column(c, overflow="fold")
    for r in records:
        t.add_row(str(r["seq"]), r["time"][:19], r["actor"], r["role"], r["action"],
                  "refused" if r.get("result") == "refused" else
                  "" if r.get("result_count") is None else str(r["result_count"]),
                  _objects(r.get("objects") or {}))
    out.print(t)

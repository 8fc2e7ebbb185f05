"""`relecture requisition open | list | show | close`: the legal basis of every search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import HomeOption, _home, _run, err, out, print_table
from relecture.errors import UsageError
from relecture.times import DEFAULT_TZ, parse_instant

app = typer.Typer(
    help="Open, list, show and close requisitions (the legal basis of every search).",
    no_args_is_help=True, rich_markup_mode="markdown")


def _ranges(starts: list[str], ends: list[str], tz: str):
    """--from/--to pairs (camera local time in `tz` unless they carry an offset) -> UTC."""
    from relecture.search.query_time import flag_time

    if len(starts) != len(ends) or not starts:
        raise UsageError("give the time ranges as pairs: --from TIME --to TIME (repeatable)")
    return [(flag_time(parse_instant(a, "--from"), tz), flag_time(parse_instant(b, "--to"), tz))
            for a, b in zip(starts, ends)]


def _session(home):
    from relecture.requisitions.session import Session

    return Session.open(_home(home))


def _describe(d: dict) -> list[tuple[str, str]]:
    scope = d["scope"]
    return [("reference", d["reference"]), ("type", d["type"]),
            ("magistrate", d["magistrate"]),
            ("officer", f"{d['officer']['matricule']} ({d['officer']['service']})"),
            ("reason", d["reason"]), ("cameras", ", ".join(scope["cameras"])),
            ("time ranges (UTC)", "; ".join(f"{a} → {b}" for a, b in scope["ranges"])),
            ("status", d["status"]), ("opened", f"{d['opened_utc']} by {d['opened_by']}"),
            ("closed", f"{d['closed_utc']} by {d['closed_by']}" if d["closed_utc"] else "-")]


def _print(d: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(d, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    t = Table(show_header=False, title=f"requisition {d['reference']}")
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")
    for k, v in _describe(d):
        t.add_row(k, v)
    out.print(t)


@app.command("open")
def open_cmd(
    reference: str = typer.Argument(..., metavar="REFERENCE",
                                    help="Procedure / PV number as written on the requisition."),
    kind: str = typer.Option(..., "--type", help="60-1, 77-1-1, 99-3 or flagrance."),
    magistrate: str = typer.Option(
        ..., "--magistrate",
        help='Authorising magistrate, or "flagrance" (allowed for 60-1 and flagrance).'),
    officer: str = typer.Option(..., "--officer", metavar="MATRICULE",
                                help="Requesting officer's matricule."),
    service: str = typer.Option(..., "--service", help="Requesting officer's service."),
    reason: str = typer.Option(..., "--reason", help="Why (offence, date), in a few words."),
    camera: list[str] = typer.Option(..., "--camera", "-c", help="Camera id (repeatable)."),
    start: list[str] = typer.Option(..., "--from", metavar="TIME",
                                    help="Range start, ISO 8601 (repeatable, paired with --to)."),
    end: list[str] = typer.Option(..., "--to", metavar="TIME", help="Range end (repeatable)."),
    tz: str = typer.Option(DEFAULT_TZ, "--tz",
                           help="Zone of --from/--to without an offset."),
    as_json: bool = typer.Option(False, "--json", help="Print the requisition as JSON."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Open a requisition: who asks, under which authority, why, on which cameras and times.

    Searches, views and exports are then allowed only under it, only on its cameras and
    only during its time ranges. Opening is audited.

    Example:

        relecture requisition open "PV 2024/00123" --type 77-1-1 --magistrate "Mme Martin, procureure" --officer 1234567 --service "BR Lyon" --reason "vol de véhicule" --camera 12 --camera 13 --from 2024-03-04T14:00 --to 2024-03-04T16:00

    Exit codes: 0 ok, 2 missing or malformed field, reference already used, 5 a camera
    outside your scope or a role that may not open requisitions.
    """
    from relecture.requisitions.requisition import open_requisition

    def go():
        s = _session(home)
        return open_requisition(s.home, s.site, s.user, reference=reference, type=kind,
                                magistrate=magistrate, officer_matricule=officer,
                                officer_service=service, reason=reason, cameras=camera,
                                ranges=_ranges(start, end, tz))

    req = _run(go)
    err.print(f"requisition {req.reference} opened", markup=False, highlight=False, soft_wrap=True)
    _print(req.as_dict(), as_json)


@app.command("list")
def list_cmd(
    status: Optional[str] = typer.Option(None, "--status", help="open or closed."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    home: Optional[Path] = HomeOption,
) -> None:
    """List the requisitions you may read, oldest first.

    Example: relecture requisition list --status open
    """
    reqs = _run(lambda: [r.as_dict() for r in _session(home).requisitions(status)])
    if as_json:
        print(json.dumps(reqs, indent=2, ensure_ascii=False))
        return
    print_table(f"{len(reqs)} requisition(s)",
                ("reference", "type", "status", "cameras", "opened (UTC)", "officer"),
                [(d["reference"], d["type"], d["status"], ", ".join(d["scope"]["cameras"]),
                  d["opened_utc"], d["officer"]["matricule"]) for d in reqs])


@app.command("show")
def show_cmd(
    reference: str = typer.Argument(..., metavar="REFERENCE"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Show one requisition: legal fields, scope, status.

    Example: relecture requisition show "PV 2024/00123"
    """
    _print(_run(lambda: _session(home).read_requisition(reference).as_dict()), as_json)


@app.command("close")
def close_cmd(
    reference: str = typer.Argument(..., metavar="REFERENCE"),
    reason: str = typer.Option("", "--reason", help="Why it is closed (e.g. procedure ended)."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Close a requisition: no search, view or export under it afterwards. Audited.

    Legal holds placed under it stay until released (`relecture hold release`).

    Example: relecture requisition close "PV 2024/00123" --reason "affaire classée"
    """
    from relecture.requisitions.requisition import close_requisition

    def go():
        s = _session(home)
        return close_requisition(s.home, s.site, s.user, reference, reason)

    req = _run(go)
    err.print(f"requisition {req.reference} closed", markup=False, highlight=False, soft_wrap=True)

"""`relecture export` (a signed BagIt evidence package) and `relecture verify` (check one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import (HomeOption, RequisitionOption, WithinOption, _home,
                                           _run, err, fail, out, parse_ids)


def export_cmd(
    requisition: Optional[str] = RequisitionOption,
    hits: Optional[list[str]] = typer.Option(
        None, "--hits", metavar="ID,ID",
        help="Sighting ids to export (comma-separated, repeatable)."),
    journey: Optional[int] = typer.Option(
        None, "--journey", metavar="SIGHTING_ID",
        help="Export the journey from this sighting (`relecture journey`): its passages are "
             "the hits, and the report shows its timeline."),
    out_dir: Path = typer.Option(..., "--out", metavar="DIR",
                                 help="New (or empty) directory for the package."),
    no_blur: bool = typer.Option(False, "--no-blur",
                                 help="Do not blur persons and other vehicles' plates in the "
                                      "viewable copies (masters are never altered)."),
    synopsis: bool = typer.Option(False, "--synopsis",
                                  help="Also add a synopsis still (PNG) and clip (MP4) of "
                                       "each camera's window around the hits (whole "
                                       "minutes), as `relecture synopsis` makes them."),
    within: float = WithinOption,
    home: Optional[Path] = HomeOption,
) -> None:
    """Export hits of a requisition as a signed evidence package (BagIt directory).

    For each hit: the untouched master segment, a viewable copy with camera time burned in
    (persons and other plates blurred), stills; plus evidence.json, the requisition's audit
    extract and a report for the magistrate.

    The export is audited and a signed audit checkpoint is made first; the package is built
    beside DIR and renamed into place only when complete, so DIR never holds half a package.

    Example:

        relecture export -r "PV 2024/00123" --hits 42,57 --out /media/usb/PV-2024-00123

        relecture export -r "PV 2024/00123" --hits 42 --synopsis --out /media/usb/PV-2024-00124
        relecture export -r "PV 2024/00123" --journey 42 --within 30 --out /media/usb/PV-2024-00125

    Then anyone can check it: `relecture verify /media/usb/PV-2024-00123 --public-key KEY.pem`

    Exit codes: 0 ok, 2 not a sighting number, missing footage or DIR not empty, 4 footage
    changed since indexing or audit log broken, 5 no open requisition, or a hit outside its
    scope or unknown (one answer for both). Refusals are audited.
    """
    from relecture.errors import UsageError
    from relecture.requisitions.session import Session

    if (journey is None) == (not hits):
        fail(UsageError("name the hits to export (--hits 42,43) or a journey (--journey 42)"))
    session = _run(lambda: Session.open(_home(home), requisition))
    result, pub = _run(lambda: session.export(parse_ids(hits), out_dir, not no_blur, synopsis)
                       if journey is None else session.export_journey(
                           journey, out_dir, not no_blur, synopsis, within * 60))
    out.print(f"package {result.package_id} written to {result.path}\n"
              f"{len(result.hits)} hit(s), {len(result.files)} items; "
              f"verify with: relecture verify {result.path} --public-key {pub}",
              highlight=False, markup=False, soft_wrap=True)


def verify_cmd(
    package: Path = typer.Argument(..., metavar="DIR", help="The evidence package directory."),
    public_key: Optional[Path] = typer.Option(
        None, "--public-key", metavar="PEM", exists=True, dir_okay=False,
        help="The site's public key: also proves who signed (without it, the key inside "
             "the package only proves nothing changed since signing)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Check an evidence package: hashes, signature, evidence.json. Needs no catalog.

    Every file's sha256 against the BagIt manifests, the Ed25519 signature over them, and
    evidence.json against the files.

    Example: relecture verify /media/usb/PV-2024-00123 --public-key audit_ed25519.pub.pem

    Exit codes: 0 intact, 2 bad option, 4 anything changed, missing or unsigned (each
    problem is printed with the file it is in).
    """
    from rich.markup import escape

    from relecture.requisitions.package_verify import verify_package

    pem = public_key.read_bytes() if public_key else None
    report = _run(lambda: verify_package(package, pem))
    if as_json:
        print(json.dumps({"ok": report.ok, "path": str(report.path),
                          "package_id": report.package_id,
                          "files_checked": report.files_checked,
                          "problems": [{"file": p.file, "reason": p.reason}
                                       for p in report.problems]}, indent=2))
    elif report.ok:
        out.print(f"package {report.package_id} intact: {report.files_checked} files checked, "
                  f"signature valid{' (trusted key)' if pem else ' (key in the package)'}",
                  highlight=False, markup=False, soft_wrap=True)
    elif len(report.problems) == 1:  # e.g. a signed manifest missing: one line says it all
        p = report.problems[0]
        err.print(f"package {package} does NOT verify: {p.file}: {p.reason}",
                  highlight=False, markup=False, soft_wrap=True)
    else:
        for p in report.problems:
            err.print(f"[bold red]FAILED[/] {escape(p.file)}: {escape(p.reason)}",
                      highlight=False)
        err.print(f"package {package} does NOT verify: {len(report.problems)} problem(s)",
                  highlight=False, markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(4)

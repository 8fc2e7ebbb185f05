"""`relecture synopsis`: one camera's window on one picture (or a short clip), every vehicle
passage drawn over the background; requisition-bound, scope-checked, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import HomeOption, RequisitionOption, _home, _run, err


def synopsis_cmd(
    requisition: Optional[str] = RequisitionOption,
    camera: str = typer.Option(..., "--camera", "-c", help="The camera (one)."),
    start: str = typer.Option(..., "--from", metavar="TIME",
                              help="Start, ISO 8601 (camera local time unless it has an "
                                   "offset or --utc)."),
    end: str = typer.Option(..., "--to", metavar="TIME", help="End, like --from."),
    out_file: Path = typer.Option(..., "--out", metavar="FILE", dir_okay=False,
                                  help="FILE.png or FILE.jpg (a still) or FILE.mp4 (a clip)."),
    as_json: bool = typer.Option(False, "--json",
                                 help="Print what was drawn (passages, boxes) as JSON."),
    utc: bool = typer.Option(False, "--utc", help="Read --from/--to as UTC."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Synopsis of a camera's window: every vehicle passage on one picture or a short clip.

    The background is the median of pictures sampled over the window's recordings; each
    passage that `relecture search` finds on that camera in that window is drawn on it at
    its best view, labelled with its sighting id and camera time. On a still (.png, .jpg)
    cut-outs never hide each other: one whose place is taken is moved (or shrunk into the
    strip along the bottom) with a line to where it was. On a clip (.mp4, H.264) passages
    from different times play together, their starts shifted so they do not collide.
    Derived picture: persons are blurred. The window must lie inside the requisition's time
    ranges. Audited (the window, the sightings drawn, the recordings shown).

    Examples:

        relecture synopsis -r "PV 2024/00123" --camera 12 --from 2024-03-04T14:00 --to 2024-03-04T15:00 --out cam12.png

        relecture synopsis -r "PV 2024/00123" --camera 12 --from 2024-03-04T14:00 --to 2024-03-04T15:00 --out cam12.mp4 --json

    Exit codes: 0 ok, 2 bad flag (time, --from after --to, not .png/.jpg/.mp4, no such
    folder) or no recording of the window, 4 footage changed since indexing or audit log
    broken, 5 no open requisition, a camera or window outside it. Refusals are audited.
    """
    from relecture.requisitions.session import Session

    session = _run(lambda: Session.open(_home(home), requisition))
    result = _run(lambda: session.synopsis(camera, start, end, out_file, utc))
    if as_json:
        print(json.dumps({"requisition": session.requisition.reference, **result.as_dict()},
                         indent=2, ensure_ascii=False))
    left = (f", {len(result.unplaced)} not drawn for want of room (a shorter window, or the "
            ".mp4 clip, shows them)" if result.unplaced else "")
    err.print(f"synopsis {result.kind} written to {result.path}: {len(result.passages)} "
              f"passage(s) of camera {result.window.camera}{left}, "
              f"{result.picture.width}x{result.picture.height}, sha256 {result.sha256[:16]}",
              markup=False, highlight=False, soft_wrap=True)

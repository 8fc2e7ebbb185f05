"""What every command shares: the consoles, the `--home` and `--requisition` options, the
error wrapper, parsing sighting ids and printing a list as a table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Optional, TypeVar

import typer
from rich.console import Console

from relecture.errors import Interrupted, RelectureError, UsageError
from relecture.settings import Home, default_home

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

HomeOption = typer.Option(
    None, "--home", envvar="RELECTURE_HOME",
    help="Catalog directory [default: $RELECTURE_HOME or ~/.local/share/relecture].",
)
RequisitionOption = typer.Option(
    None, "--requisition", "-r", metavar="REF",
    help="Reference of the open requisition this is done under (`relecture requisition list`).",
)
WithinOption = typer.Option(
    60.0, "--within", metavar="MINUTES", min=1, max=24 * 60,
    help="A journey links by appearance only passages this close in time to its start.",
)


def _home(home: Optional[Path]) -> Home:
    return Home(home or default_home())


def _run(fn: Callable[[], T]) -> T:
    """Run a library call; a RelectureError becomes one line on stderr and its exit code."""
    from rich.markup import escape

    try:
        return fn()
    except RelectureError as e:
        # soft_wrap: one line whatever the terminal width; escaped: a message may quote
        # what the user typed, brackets included
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(e.exit_code) from None
    except Interrupted as e:  # the command says what it kept
        err.print(f"interrupted: {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except KeyboardInterrupt:
        err.print("interrupted: nothing partial was written")
        raise typer.Exit(130) from None


def fail(error: RelectureError) -> None:
    """Report `error` like `_run` does and exit with its code."""
    def boom():
        raise error
    _run(boom)


def parse_ids(values: list[str], what: str = "sighting") -> list[int]:
    """Sighting ids from `--hits 3,4 --hits 7` or `#3`: ints, in order, without repeats."""
    from relecture.sightings import check_sighting_id

    ids: list[int] = []
    for v in values:
        for part in str(v).replace(";", ",").split(","):
            part = part.strip().lstrip("#")
            if not part:
                continue
            if not part.isdigit():
                raise UsageError(f"{what} id {part!r} is not a number (e.g. 42 or 42,43)")
            if check_sighting_id(int(part), part) not in ids:
                ids.append(int(part))
    return ids


def print_table(title: str, columns: tuple[str, ...], rows) -> None:
    """Print `rows` (tuples of text, one per column) as a table; long cells fold."""
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*row)
    out.print(t)


def fmt_time(value: Optional[datetime]) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"

"""What every command shares: the consoles, the `--home` option, the error wrapper, and the
small steps most requisition-bound commands start with (site policy, user, requisition)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Optional, TypeVar

import typer
from rich.console import Console

from relecture.errors import Interrupted, RelectureError, UsageError
from relecture.settings import Home, current_user, default_home

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


def context(home: Optional[Path], user: Optional[str] = None):
    """(home, site policy, acting user) for a command; the user is `current_user()` unless
    named (an evaluation acting as an investigator)."""
    from relecture.requisitions.site import load_site

    h = _home(home)
    user = user or current_user()
    return h, load_site(h, user), user


def requisition_or_none(h: Home, reference: Optional[str]):
    """The requisition `reference`, or None when none was given (access checks refuse None)."""
    from relecture.requisitions.requisition import get_requisition

    return get_requisition(h, reference) if reference else None


def open_catalog(h: Home, read_only: bool = True):
    """The catalog, or a one-line error when it is missing or another process holds it."""
    import duckdb

    from relecture.catalog import Catalog

    try:
        return Catalog(h, read_only=read_only)
    except duckdb.IOException as e:
        raise UsageError(f"cannot open the catalog in {h.root}: {str(e).splitlines()[0]} "
                         "(is an index job or a purge running?)") from None


def parse_instant(text: Optional[str], what: str) -> Optional[datetime]:
    """An ISO 8601 date or date-time typed by a user (naive = local time), or None."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise UsageError(f"{what} {text!r}: use ISO 8601, e.g. 2023-01-30T14:00 or "
                         "2023-01-30T14:00+01:00") from None


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


def fmt_time(value: Optional[datetime]) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"

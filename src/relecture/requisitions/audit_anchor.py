"""The catalog's record of the audit log: the last record (seq, entry hash) it saw appended.

Without it, a log cut back to an earlier state together with its head, or a log and head
both deleted, would verify as intact from inside the home. The catalog is another file in
another format (DuckDB); every append records the new last record in its `audit_anchor`
table, and every append and `audit verify` check that the log still holds that record.

The record is a lower bound: a crash after the log write leaves the catalog one append
behind, which is harmless (the log holds what it says) and the next append brings it level.
What it cannot catch: the catalog and the log both replaced by older copies, or the row
edited with DuckDB itself; only a head kept outside the home does (`--expected-head`).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

from relecture.settings import Home


@dataclass(frozen=True)
class Anchor:
    """The log's last record as the catalog last saw it."""

    seq: int
    entry_hash: str


@contextmanager
def writable(home: Home) -> Iterator:
    """The catalog's connection, opened for writing (created if needed) for one append.

    Opened before the audit lock is taken, as callers that already hold the catalog do
    (purge, holds): one order for the two locks, so that two processes never wait on each
    other.
    """
    from relecture.catalog import Catalog

    with Catalog(home) as catalog:
        yield catalog.db


def read(db) -> Anchor | None:
    """The anchor in the catalog `db`, or None (never recorded, or a catalog older than it)."""
    import duckdb

    try:
        row = db.execute("SELECT seq, entry_hash FROM audit_anchor").fetchone()
    except duckdb.CatalogException:  # a read-only open of a catalog made before the table
        return None
    return Anchor(int(row[0]), str(row[1])) if row else None


def read_home(home: Home) -> Anchor | None:
    """The anchor of `home`'s catalog, read-only; None when there is no catalog."""
    from relecture.catalog import connect

    if not home.catalog_db.exists():
        return None
    db = connect(home.catalog_db, read_only=True)
    try:
        return read(db)
    finally:
        db.close()


def record(db, seq: int, entry_hash: str) -> None:
    """Make (seq, entry_hash) the catalog's anchor, in one transaction."""
    from relecture.catalog import transaction

    with transaction(db):
        db.execute("DELETE FROM audit_anchor")
        db.execute("INSERT INTO audit_anchor VALUES (?, ?, ?)",
                   [seq, entry_hash, datetime.now(timezone.utc).replace(tzinfo=None)])

"""Where the catalog lives and who is acting: resolved once, passed down explicitly."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path


def default_home() -> Path:
    """`RELECTURE_HOME`, else `$XDG_DATA_HOME/relecture`, else `~/.local/share/relecture`."""
    if env := os.environ.get("RELECTURE_HOME"):
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "relecture"


def current_user() -> str:
    """`RELECTURE_USER`, else the operating-system user."""
    return os.environ.get("RELECTURE_USER") or getpass.getuser()


@dataclass(frozen=True)
class Home:
    """The catalog home directory and the files inside it."""

    root: Path

    @property
    def catalog_db(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def vectors_dir(self) -> Path:
        return self.root / "vectors"

    @property
    def thumbnails_dir(self) -> Path:
        return self.root / "thumbnails"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.jsonl"

    def ensure(self) -> "Home":
        """Create the directory tree if needed and return self."""
        for d in (self.root, self.vectors_dir, self.thumbnails_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

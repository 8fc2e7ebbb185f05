"""Small file primitives that stay safe when several processes share a home."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def create_once(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Write `data` to `path` unless it exists; return whether this call created it.

    The file appears whole or not at all: it is written under a temporary name and
    hard-linked into place, which fails when another process got there first.
    """
    tmp = _write_synced(path, data, mode)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never a part."""
    tmp = _write_synced(path, data, mode)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes, mode: int) -> Path:
    """`data` written and synced to a new temporary file beside `path`; returns its path."""
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def remove_temporaries(directory: Path) -> int:
    """Delete the temporary files `write_atomic` left in `directory` when its writer was
    killed mid-write; only while no writer can be running there (the caller holds the
    lock). Returns how many there were."""
    stale = list(directory.glob(".*.tmp")) if directory.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")

"""One index job per catalog at a time, whichever the mode (named files or nightly archive):
a job owns the catalog's writes and the shards directory while it runs."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from relecture.errors import UsageError
from relecture.settings import Home


@contextmanager
def job_lock(home: Home) -> Iterator[None]:
    """Hold `<home>/index.lock` for the job; UsageError (exit 2) when another job holds it.

    flock is released by the kernel when the process dies, so a killed job never leaves a
    stale lock behind."""
    home.root.mkdir(parents=True, exist_ok=True)
    with open(home.root / "index.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another index job is running on {home.root} (index.lock); "
                             "run this one when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

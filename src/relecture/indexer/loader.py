"""The one loader: commits a worker's shard into the catalog, in one transaction, and says
what that did to the file as a `FileOutcome`."""

from __future__ import annotations

import errno
from dataclasses import replace
from pathlib import Path

from relecture.indexer import shards as shardlib
from relecture.indexer.intake import ALREADY
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.task import DISK_FULL
from relecture.settings import Home


def commit(home: Home, shard: Path, job_id: str, done: FileOutcome) -> FileOutcome:
    """Commit `shard` for job `job_id`; `done` is the worker's outcome (or a stand-in naming
    the file), completed with what was stored. A shard that cannot be committed is kept
    for the next job."""
    try:
        loaded = shardlib.load_shard(home, shard, job_id)
    except OSError as e:
        msg = (f"{DISK_FULL} while committing; its shard is kept for the next run"
               if e.errno == errno.ENOSPC else f"commit failed ({e.strerror or e}); shard kept")
        return replace(done, status="failed", message=msg, shard=None)
    except (ValueError, KeyError) as e:
        return replace(done, status="failed", shard=None,
                       message=f"unreadable shard {shard.name[:16]} ({e}); kept")
    if not loaded.loaded:  # the same content under another name, committed first
        return replace(done, status="skipped", message=f"{ALREADY} (same sha256)",
                       sha256=loaded.sha256, shard=None)
    return replace(done, path=Path(loaded.path), status="indexed", camera=loaded.camera,
                   duration_s=loaded.duration_s, sightings=loaded.sightings,
                   persons=loaded.persons, plates=loaded.plates, sha256=loaded.sha256,
                   shard=None)

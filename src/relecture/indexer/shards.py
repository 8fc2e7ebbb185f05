"""Per-file shards: what a worker hands to the single catalog loader, through the disk.

A worker never opens the catalog (DuckDB has one writer, and its lock also keeps readers
out). It writes one shard per indexed file under its job's directory:

    <home>/shards/<job_id>/.tmp-<sha16>-<random>/  while being written (removed by the next job)
    <home>/shards/<job_id>/<sha256>/               complete: renamed into place in one step
        payload.json                       recording, sightings, plate reads, persons, counts
        t<track_id>.jpg                    one thumbnail per sighting

A shard belongs to the job that asked for it: a job loads and checks only its own directory,
so a shard that a worker of an earlier, killed job lands late is neither taken for this
job's work nor makes it skip the file. The loader (`load_shard`) commits a shard in one
catalog transaction, then deletes it. Complete shards left by an earlier job are committed
for that job by the next one (`indexer.recovery`); one whose recording is already in the
catalog (killed between COMMIT and delete) is just deleted. So whatever moment a job dies,
rerunning it ends with the same catalog, never a partial file.

Across machines (Ray) `<home>` must be the same shared directory on every node.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from relecture.catalog import Catalog
from relecture.footage import Recording
from relecture.settings import Home
from relecture.sightings import (
    ColourResult, PersonTrack, PlateRead, PlateResult, Sighting, TrackBox, Travel, TypeResult,
)

FORMAT = 1
PAYLOAD = "payload.json"
TMP_PREFIX = ".tmp-"
_COMPLETE = re.compile(r"[0-9a-f]{64}")
_JOB = re.compile(r"[0-9a-f]{32}")  # an index job id (uuid4 hex)


def shards_dir(home: Home) -> Path:
    """`<home>/shards`."""
    return home.root / "shards"


def job_dir(home: Home, job_id: str) -> Path:
    """`<home>/shards/<job_id>`: where the workers of job `job_id` write."""
    return shards_dir(home) / job_id


def job_dirs(root: Path) -> list[Path]:
    """The per-job directories under `root` (`<home>/shards`)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if _JOB.fullmatch(p.name) and p.is_dir())


@dataclass(frozen=True)
class LoadResult:
    """What loading one shard did."""

    sha256: str
    loaded: bool  # False: the recording was already in the catalog
    sightings: int = 0
    persons: int = 0
    plates: int = 0
    duration_s: float = 0.0
    camera: str = ""
    path: str = ""


# -- writing (workers) -----------------------------------------------------------------------
def _write_bytes(path: Path, data: bytes) -> None:
    """Write and fsync one file of a shard (an OSError, e.g. ENOSPC, propagates)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_shard(root: Path, rec: Recording, sightings, persons, frames_decoded: int,
                frames_detected: int, extra: dict | None = None) -> Path:
    """Write one recording's results as a complete shard under `root`; return its path.

    `frames_decoded` counts every picture the codec produced, `frames_detected` those the
    detector ran on.

    Written under a temporary name and renamed into place, so a shard that exists is whole.
    On any error the temporary directory is removed and the error propagates. Raises
    FileExistsError when a complete shard for the same content is already there.
    """
    root.mkdir(parents=True, exist_ok=True)
    final = root / rec.sha256
    if final.exists():
        raise FileExistsError(final)
    tmp = root / f"{TMP_PREFIX}{rec.sha256[:16]}-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        items = []
        for s in sightings:
            name = f"t{s.track_id}.jpg"
            _write_bytes(tmp / name, s.thumbnail_jpeg)
            items.append(_sighting_json(s, name))
        payload = {
            "format": FORMAT, "recording": _recording_json(rec),
            "frames_decoded": frames_decoded, "frames_detected": frames_detected,
            "sightings": items,
            "persons": [{"track_id": p.track_id, "boxes": _boxes_json(p.boxes)} for p in persons],
            **(extra or {}),
        }
        _write_bytes(tmp / PAYLOAD, json.dumps(payload, default=_plain).encode("utf-8"))
        _fsync_dir(tmp)
        try:
            os.rename(tmp, final)  # atomic; fails if another worker got there first
        except OSError as e:
            if final.exists():
                raise FileExistsError(final) from e
            raise
        _fsync_dir(root)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _plain(o):
    """numpy scalars and arrays as plain Python numbers and lists."""
    if isinstance(o, (np.generic, np.ndarray)):
        return o.tolist()
    raise TypeError(f"cannot store {type(o).__name__} in a shard")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- housekeeping and loading (the one loader) -----------------------------------------------
def remove_temporaries(root: Path) -> int:
    """Delete half-written shards left by killed jobs (the caller holds the job lock, so no
    live job is writing them); returns how many there were."""
    n = 0
    for d in job_dirs(root):
        for p in d.iterdir():
            if p.name.startswith(TMP_PREFIX):
                shutil.rmtree(p, ignore_errors=True)
                n += 1
    return n


def complete_shards(directory: Path) -> list[Path]:
    """Complete shards in one job's directory waiting to be loaded, oldest first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir()
             if _COMPLETE.fullmatch(p.name) and (p / PAYLOAD).is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def remove_if_empty(directory: Path) -> None:
    """Remove a job's shard directory once nothing is left in it."""
    try:
        directory.rmdir()
    except OSError:  # not empty (a shard kept for the next run) or already gone
        pass


def discard(shard: Path) -> None:
    """Delete a committed shard. It is first renamed (atomically) to a temporary's name, so
    a kill during the delete leaves a temporary, which the next job removes, never a shard
    directory that has lost its payload but not its thumbnails (no later job would touch it)."""
    doomed = shard.with_name(f"{TMP_PREFIX}{shard.name[:16]}-{uuid.uuid4().hex[:12]}")
    try:
        os.rename(shard, doomed)
    except OSError:  # already gone, or another process's: delete it where it is
        doomed = shard
    shutil.rmtree(doomed, ignore_errors=True)


def read_payload(shard: Path) -> dict:
    """The shard's payload.json, parsed."""
    return json.loads((shard / PAYLOAD).read_text(encoding="utf-8"))


def load_shard(home: Home, shard: Path, job_id: str, wait_s: float | None = None) -> LoadResult:
    """Commit one shard in one catalog transaction, then delete the shard.

    The catalog is opened read-write only for this shard and closed at once, so readers
    (search) get their turn between files. OSError (disk full...) propagates and the shard
    stays for the next job.
    """
    payload = read_payload(shard)
    rec = _recording_from(payload["recording"])
    sightings = [_sighting_from(d, shard) for d in payload["sightings"]]
    persons = [PersonTrack(p["track_id"], _boxes_from(p["boxes"])) for p in payload["persons"]]
    with Catalog(home, wait_s=wait_s) as catalog:
        if catalog.has_recording(rec.sha256):
            loaded = False
        else:
            # shards written before frames_decoded was kept had only the sampled count
            decoded = payload.get("frames_decoded", payload.get("frames_sampled"))
            catalog.add_recording(rec, sightings, persons, job_id, decoded,
                                  payload["frames_detected"])
            loaded = True
    discard(shard)
    return LoadResult(rec.sha256, loaded, len(sightings), len(persons),
                      sum(s.plate.text is not None for s in sightings), rec.duration_s,
                      rec.camera, str(rec.path))


# -- (de)serialisation: exact round trip (JSON floats are repr-exact) -------------------------
def _recording_json(rec: Recording) -> dict:
    return {"path": str(rec.path), "sha256": rec.sha256, "size_bytes": rec.size_bytes,
            "camera": rec.camera, "start_local": rec.start_local.isoformat(), "tz": rec.tz,
            "clock_offset_s": rec.clock_offset_s, "duration_s": rec.duration_s, "fps": rec.fps,
            "width": rec.width, "height": rec.height, "codec": rec.codec}


def _recording_from(d: dict) -> Recording:
    return Recording(**{**d, "path": Path(d["path"]),
                        "start_local": datetime.fromisoformat(d["start_local"])})


def _boxes_json(boxes) -> list:
    return [[b.t, *b.xyxy, b.confidence] for b in boxes]


def _boxes_from(rows) -> tuple[TrackBox, ...]:
    return tuple(TrackBox(r[0], (r[1], r[2], r[3], r[4]), r[5]) for r in rows)


def _sighting_json(s: Sighting, thumbnail: str) -> dict:
    emb = None
    if s.embedding is not None:
        emb = base64.b64encode(np.asarray(s.embedding, np.float32).tobytes()).decode("ascii")
    return {
        "track_id": s.track_id, "first_t": s.first_t, "last_t": s.last_t,
        "boxes": _boxes_json(s.boxes),
        "type": [s.vehicle_type.name, s.vehicle_type.confidence],
        "body": [list(p) for p in s.vehicle_type.body],
        "colour": [s.colour.name, s.colour.confidence, s.colour.alt, s.colour.alt_confidence],
        "colour_distribution": [list(p) for p in s.colour.distribution],
        "travel": [s.travel.entry, s.travel.exit, s.travel.motion, s.travel.motion_conf]
        if s.travel is not None else None,
        "plate": {"text": s.plate.text, "confidence": s.plate.confidence,
                  "reads": [[r.t, r.text, r.confidence, *r.box, r.source]
                            for r in s.plate.reads]},
        "best_t": s.best_t, "thumbnail": thumbnail, "embedding": emb,
        "embedding_space": s.embedding_space,
    }


def _sighting_from(d: dict, shard: Path) -> Sighting:
    emb = None
    if d["embedding"] is not None:
        emb = np.frombuffer(base64.b64decode(d["embedding"]), np.float32).copy()
    p = d["plate"]
    # shards written before body, distribution and travel were kept have none of them
    pairs = {k: tuple((name, value) for name, value in d.get(k) or ())
             for k in ("body", "colour_distribution")}
    return Sighting(
        track_id=d["track_id"], first_t=d["first_t"], last_t=d["last_t"],
        boxes=_boxes_from(d["boxes"]), vehicle_type=TypeResult(*d["type"], body=pairs["body"]),
        colour=ColourResult(*d["colour"], distribution=pairs["colour_distribution"]),
        plate=PlateResult(p["text"], p["confidence"], tuple(
            PlateRead(r[0], r[1], r[2], (r[3], r[4], r[5], r[6]), r[7]) for r in p["reads"])),
        best_t=d["best_t"], thumbnail_jpeg=(shard / d["thumbnail"]).read_bytes(),
        embedding=emb, embedding_space=d["embedding_space"],
        travel=Travel(*d["travel"]) if d.get("travel") else None,
    )

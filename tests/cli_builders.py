"""Helpers for the CLI tests: run a command as a user, a home with one indexed clip and a
requisition over it (no detector run: the catalog is written directly)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from relecture.catalog import Catalog
from relecture.cli import app
from tests import evidence_builders as eb

runner = CliRunner()
REF = "PV 2023/000123"
USER = "test-operator"


def cli(home: Path, *args: str, user: str = USER):
    """`relecture ARGS` with this home and user (stdout and stderr kept apart)."""
    env = {"RELECTURE_HOME": str(home), "RELECTURE_USER": user, "RELECTURE_CLIP_WEIGHTS": ""}
    return runner.invoke(app, [str(a) for a in args], env=env)


def index(*args: str):
    """`relecture index ARGS --settle 0` as the environment's user and home (the clips
    are complete unless a test says not)."""
    return runner.invoke(app, ["index", *args, "--settle", "0"])


def open_args(ref: str = REF, camera: str = "12", start: str = "2023-01-30T13:55",
              end: str = "2023-01-30T14:10") -> list[str]:
    return ["requisition", "open", ref, "--type", "60-1", "--magistrate", "flagrance",
            "--officer", "1234567", "--service", "BR Lyon", "--reason", "vol avec violence",
            "--camera", camera, "--from", start, "--to", end]


def indexed_home(root: Path, with_requisition: bool = True) -> dict:
    """A home (root/home) holding eb.indexed_recording's clip (camera 12, 30/01/2023 14:00
    Paris) and, by default, an open requisition REF over camera 12, 13:55-14:10."""
    home, clip, sid, other = eb.indexed_recording(root)
    if with_requisition:
        r = cli(home.root, *open_args())
        assert r.exit_code == 0, r.output
    return {"home": home.root, "clip": clip, "sid": sid, "other": other}


def search_json(home: Path, *args: str, user: str = USER) -> dict:
    r = cli(home, "search", *args, "--json", user=user)
    assert r.exit_code == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def audit_records(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "audit.jsonl").read_text().splitlines()]


def write_site(home: Path, retention_days: int = 30) -> None:
    """site.toml with test-operator (operator + investigator, all cameras), a municipal
    investigator who sees camera 13 only, and an auditor."""
    (home / "site.toml").write_text(
        f"retention_days = {retention_days}\naudit_checkpoint_every = 100\n\n"
        '[[users]]\nname = "test-operator"\nroles = ["operator", "investigator"]\ncameras = ["*"]\n\n'
        '[[users]]\nname = "municipal"\nroles = ["investigator"]\ncameras = ["13"]\n\n'
        '[[users]]\nname = "auditor"\nroles = ["auditor"]\ncameras = ["*"]\n',
        encoding="utf-8")


def sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def add_recording(cat: Catalog, name: str, start_utc: datetime, camera: str = "12") -> int:
    """A catalogued recording with one sighting, one plate read, an embedding, a thumbnail."""
    rid = sha(name)
    cat.db.execute("INSERT INTO recordings (recording_id, path, camera, start_local, tz, "
                   "clock_offset_s, start_utc, duration_s) VALUES (?,?,?,?,?,?,?,?)",
                   [rid, f"/footage/{name}.mp4", camera, start_utc + timedelta(hours=1),
                    "Europe/Paris", 0.0, start_utc, 60.0])
    thumb = f"{rid[:16]}_1.jpg"
    (cat.home.thumbnails_dir / thumb).write_bytes(b"\xff\xd8jpeg")
    sid = cat.db.execute(
        "INSERT INTO sightings (recording_id, camera, track_id, first_t, last_t, first_utc, "
        "last_utc, vehicle_type, colour, plate, plate_conf, best_t, thumbnail, "
        "embedding_space) VALUES (?,?,1,1.0,3.0,?,?,'van','white','AA123BB',0.9,2.0,?,'t') "
        "RETURNING sighting_id",
        [rid, camera, start_utc + timedelta(seconds=1), start_utc + timedelta(seconds=3),
         thumb]).fetchone()[0]
    cat.db.execute("INSERT INTO plate_reads VALUES (?, 2.0, 'AA123BB', 0.9, 0, 0, 1, 1, 't')",
                   [sid])
    cat.db.execute("INSERT INTO embeddings VALUES (?, 't', ?)", [sid, [1.0, 0.0, 0.0]])
    return sid

"""`relecture synopsis` end to end on the bundled sample footage of camera 12 (two clips,
indexed with the real models): the still and the clip show exactly the passages `search`
returns for the window, each drawn where the background is not, none hiding another on the
still, several at once on the clip."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from relecture.cli import app

REPO = Path(__file__).resolve().parents[1]
CLIPS = [REPO / "sample_footage" / "CAM12_20230130T140000.mp4",
         REPO / "sample_footage" / "cam12" / "2023-01-30" / "14-05-00.mp4"]
REF = "PV 2023/000131"
WINDOW = ("--from", "2023-01-30T14:00", "--to", "2023-01-30T15:00")
runner = CliRunner()

pytestmark = pytest.mark.slow  # the real models on the sample footage


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Camera 12's sample clips indexed once, and a requisition over 13:00-16:00."""
    home = tmp_path_factory.mktemp("synopsis") / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("RELECTURE_HOME", str(home))
    mp.setenv("RELECTURE_USER", "operator1")
    mp.setenv("RELECTURE_CLIP_WEIGHTS", "")
    mp.setattr("relecture.indexer.intake.utc_now",  # recorded 30/01/2023: index as next day
               lambda: datetime(2023, 1, 31, 9, 0, tzinfo=timezone.utc))
    indexed = runner.invoke(app, ["index", *map(str, CLIPS), "--settle", "0"])
    assert indexed.exit_code == 0, indexed.output
    opened = runner.invoke(app, [
        "requisition", "open", REF, "--type", "77-1-1", "--magistrate", "Mme Martin",
        "--officer", "1234567", "--service", "SR Reims", "--reason", "vol de véhicule",
        "--camera", "12", "--from", "2023-01-30T13:00", "--to", "2023-01-30T16:00"])
    assert opened.exit_code == 0, opened.output
    yield home
    mp.undo()


def synopsis(out: Path) -> dict:
    r = runner.invoke(app, ["synopsis", "-r", REF, "--camera", "12", *WINDOW, "--out",
                            str(out), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def searched() -> list[int]:
    r = runner.invoke(app, ["search", "-r", REF, "--camera", "12", *WINDOW, "--limit",
                            "10000", "--json"])
    assert r.exit_code == 0, r.output
    return sorted(h["sighting_id"] for h in json.loads(r.stdout)["hits"])


def background(home: Path, shown: dict):
    """The window's background as the command makes it (same sources, same median)."""
    from relecture.catalog import open_catalog
    from relecture.requisitions import synopsis_make, synopsis_render
    from relecture.settings import Home

    window = synopsis_make.Window("12", datetime.fromisoformat(shown["from_utc"][:-1]),
                                  datetime.fromisoformat(shown["to_utc"][:-1]))
    with open_catalog(Home(home)) as cat:
        plan = synopsis_make.plan(cat, [], window)
    assert [s.recording_id for s in plan.sources] == shown["recordings"]
    bg, _ = synopsis_render.background(plan.sources, synopsis_render.BlurCount())
    return bg.astype(int)


def box_tracks(home: Path) -> dict:
    import duckdb

    from relecture.requisitions.media import box_tracks

    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        rows = db.execute("SELECT sighting_id, first_t, boxes FROM sightings").fetchall()
    finally:
        db.close()
    return {sid: (first_t, box_tracks(json.loads(boxes))) for sid, first_t, boxes in rows}


def test_the_still_shows_every_passage_searched_without_hiding_any(home, tmp_path):
    import cv2

    out = tmp_path / "cam12.png"
    shown = synopsis(out)
    ids = [p["sighting_id"] for p in shown["passages"]]
    assert sorted(ids) == searched() and len(ids) >= 4 and not shown["unplaced"]
    img = cv2.imread(str(out))
    assert img.shape == (720, 1280, 3) and (shown["width"], shown["height"]) == (1280, 720)
    bg = background(home, shown)
    for p in shown["passages"]:
        a, b, c, d = (int(v) for v in p["placed_box"])
        inside = np.abs(img[b + 2:d - 2, a + 2:c - 2].astype(int) - bg[b + 2:d - 2, a + 2:c - 2])
        assert inside.mean() > 12, p  # a vehicle cut-out, not the empty road
    footprints = [(p["placed_box"], p["label_box"]) for p in shown["passages"]]
    for (a, la), (b, lb) in itertools.combinations(footprints, 2):
        for x, y in ((a, b), (a, lb), (la, b), (la, lb)):
            assert not (x[0] < y[2] and y[0] < x[2] and x[1] < y[3] and y[1] < x[3]), (x, y)
    assert any(p["moved"] for p in shown["passages"])  # the cars share the same road


def test_the_clip_plays_several_passages_at_once(home, tmp_path):
    import av

    out = tmp_path / "cam12.mp4"
    shown = synopsis(out)
    assert sorted(p["sighting_id"] for p in shown["passages"]) == searched()
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height, stream.codec_context.name) == (1280, 720, "h264")
        frames = [f.to_ndarray(format="bgr24").astype(int) for f in c.decode(stream)]
    assert len(frames) == shown["frames"]
    fps = shown["frames"] / shown["duration_s"]
    assert shown["duration_s"] < sum(p["duration_s"] for p in shown["passages"])
    bg, tracks = background(home, shown), box_tracks(home)
    together = 0
    for k, img in enumerate(frames):
        boxes = []
        for p in shown["passages"]:
            j = k - round(p["shift_s"] * fps)
            first_t, track = tracks[p["sighting_id"]]
            if 0 <= j / fps <= p["duration_s"] - 0.1 and track.at(first_t + j / fps):
                boxes.append(track.at(first_t + j / fps))
        drawn = [bx for bx in boxes if np.abs(img[int(bx[1]) + 2:int(bx[3]) - 2,
                 int(bx[0]) + 2:int(bx[2]) - 2] - bg[int(bx[1]) + 2:int(bx[3]) - 2,
                 int(bx[0]) + 2:int(bx[2]) - 2]).mean() > 12]
        together = max(together, len(drawn))
    assert together >= 2


def test_a_window_outside_the_requisition_is_refused(home, tmp_path):
    out = tmp_path / "cam12.png"
    r = runner.invoke(app, ["synopsis", "-r", REF, "--camera", "12", "--from",
                            "2023-01-30T15:30", "--to", "2023-01-30T16:30", "--out", str(out)])
    assert r.exit_code == 5, r.output
    assert not out.exists()
    last = json.loads((home / "audit.jsonl").read_text().splitlines()[-1])
    assert (last["action"], last["result"]) == ("synopsis", "refused")

"""`relecture synopsis` through the CLI on the tiny indexed clip (tests/evidence_builders):
the still and the clip are written whole, show exactly the passages `search` finds, blur the
person, and every bad request is refused with its exit code, audited, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests import evidence_builders as eb
from tests.cli_builders import REF, audit_records, cli, indexed_home, search_json

WINDOW = ("--from", "2023-01-30T13:58", "--to", "2023-01-30T14:05")


@pytest.fixture
def setup(tmp_path) -> dict:
    return indexed_home(tmp_path)


def synopsis(home: Path, out: Path, *extra: str, camera: str = "12", window=WINDOW):
    return cli(home, "synopsis", "-r", REF, "--camera", camera, *window, "--out", out, *extra)


def read_image(path: Path):
    import cv2

    img = cv2.imread(str(path))
    assert img is not None, f"{path} is not an image"
    return img


def test_the_still_shows_exactly_the_passages_search_finds(setup, tmp_path):
    home, out = setup["home"], tmp_path / "cam12.png"
    r = synopsis(home, out, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    shown = json.loads(r.stdout)
    found = search_json(home, "-r", REF, "--camera", "12", *WINDOW, "--limit", "10000")
    assert sorted(p["sighting_id"] for p in shown["passages"]) == \
        sorted(h["sighting_id"] for h in found["hits"])
    img = read_image(out)
    assert img.shape == (eb.SIZE[0], eb.SIZE[1], 3)
    assert (shown["width"], shown["height"]) == (eb.SIZE[1], eb.SIZE[0])
    assert shown["sha256"] and shown["unplaced"] == []
    labels = {p["sighting_id"]: p["label"] for p in shown["passages"]}
    assert labels[setup["sid"]] == f"#{setup['sid']} 14:00:03"  # camera clock, best view
    assert "synopsis still written" in r.stderr


def test_the_still_blurs_the_person_and_draws_the_moving_car(setup, tmp_path):
    out = tmp_path / "cam12.png"
    r = synopsis(setup["home"], out, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    img = read_image(out).astype(int)
    x1, y1, x2, y2 = eb.PERSON
    assert img[y1 + 5:y2 - 5, x1 + 5:x2 - 5].std() < 40  # the checker is gone
    shown = {p["sighting_id"]: p for p in json.loads(r.stdout)["passages"]}
    # the moving car is not in the median background: its cut-out is red (BGR 30, 30, 220)
    a, b, c, d = (int(v) for v in shown[setup["sid"]]["placed_box"])
    assert img[b + 2:d - 2, a + 2:c - 2, 2].mean() > 150
    assert img[b + 2:d - 2, a + 2:c - 2, 0].mean() < 100


def test_the_clip_is_h264_of_the_camera_size(setup, tmp_path):
    import av

    out = tmp_path / "cam12.mp4"
    r = synopsis(setup["home"], out, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    shown = json.loads(r.stdout)
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(stream)]
        assert stream.codec_context.name == "h264"
    assert frames and frames[0].shape == (eb.SIZE[0], eb.SIZE[1], 3)
    assert len(frames) == shown["frames"]
    assert {p["sighting_id"] for p in shown["passages"]} == {setup["sid"], setup["other"]}
    records = [x for x in audit_records(setup["home"]) if x.get("action") == "synopsis"]
    assert records[-1]["result"] == "done"
    assert sorted(records[-1]["objects"]["sightings"]) == sorted([setup["sid"], setup["other"]])


@pytest.mark.parametrize("window,camera,code,words", [
    (("--from", "2023-01-30T13:50", "--to", "2023-01-30T14:05"), "12", 5,
     "not inside one of requisition"),
    (("--from", "2023-01-30T14:05", "--to", "2023-01-30T14:00"), "12", 2, "must be after"),
    (("--from", "30/01/2023", "--to", "2023-01-30T14:05"), "12", 2, "ISO 8601"),
    (WINDOW, "13", 5, "outside requisition"),
])
def test_a_bad_window_or_camera_is_refused_and_nothing_written(setup, tmp_path, window, camera,
                                                               code, words):
    home, out = setup["home"], tmp_path / "cam.png"
    before = len(audit_records(home))
    r = synopsis(home, out, window=window, camera=camera)
    assert r.exit_code == code, r.stdout + r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".cam.png*"))
    after = audit_records(home)
    if code == 5:  # refusals are audited: who asked which camera, and why not
        assert after[-1]["action"] == "synopsis" and after[-1]["result"] == "refused"
        assert after[-1]["objects"]["cameras"] == [camera]
    else:
        assert len(after) == before


@pytest.mark.parametrize("name", ["cam.gif", "cam", "missing/cam.png"])
def test_a_bad_output_name_is_refused(setup, tmp_path, name):
    r = synopsis(setup["home"], tmp_path / name)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "--out" in r.stderr
    assert not (tmp_path / name).exists()


def test_without_an_open_requisition_nothing_is_drawn(setup, tmp_path):
    home, out = setup["home"], tmp_path / "cam.png"
    assert cli(home, "requisition", "close", REF, "--reason", "fin").exit_code == 0
    r = synopsis(home, out)
    assert r.exit_code == 5, r.stdout + r.stderr
    assert "closed" in r.stderr and not out.exists()
    assert audit_records(home)[-1]["result"] == "refused"


def test_help_teaches_it_with_an_example():
    r = cli(Path("/nonexistent"), "synopsis", "--help")
    assert r.exit_code == 0
    assert "relecture synopsis -r" in r.stdout and ".mp4" in r.stdout


def test_the_still_pixels_outside_the_drawings_are_the_background(setup, tmp_path):
    """A PNG keeps the background exactly where nothing is drawn (here: the far corner)."""
    out = tmp_path / "cam12.png"
    assert synopsis(setup["home"], out).exit_code == 0
    img = read_image(out)
    corner = img[-30:, 100:180].astype(int)  # road: grey 90 in every source picture
    assert np.abs(corner - 90).max() <= 6  # H.264 of the source, no drawing

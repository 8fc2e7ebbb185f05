"""`relecture synopsis` through the CLI on the tiny indexed clip (tests/evidence_builders):
the still and the clip are written whole, show exactly the passages `search` finds, blur the
person, and every bad request is refused with its exit code, audited, nothing written."""

from __future__ import annotations

import hashlib
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
    assert shown["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert shown["unplaced"] == []
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
    x1, y1, x2, y2 = eb.PERSON
    assert max(f[y1 + 5:y2 - 5, x1 + 5:x2 - 5].astype(int).std() for f in frames) < 40
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


def test_a_window_without_footage_is_said_so(setup, tmp_path):
    r = synopsis(setup["home"], tmp_path / "cam.png",
                 window=("--from", "2023-01-30T14:08", "--to", "2023-01-30T14:10"))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "no recording of camera 12" in r.stderr and not (tmp_path / "cam.png").exists()


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


def test_an_export_with_synopsis_carries_both_pictures_hashed_and_verifies(setup, tmp_path):
    import cv2

    home, out = setup["home"], tmp_path / "package"
    r = cli(home, "export", "-r", REF, "--hits", str(setup["sid"]), "--synopsis", "--out", out)
    assert r.exit_code == 0, r.stdout + r.stderr
    evidence = json.loads((out / "data" / "evidence.json").read_text(encoding="utf-8"))
    items = [i for i in evidence["items"] if i["role"] == "synopsis"]
    assert sorted(Path(i["file"]).suffix for i in items) == [".mp4", ".png"]
    manifest = (out / "manifest-sha256.txt").read_text()
    for i in items:
        assert f"{i['sha256']}  {i['file']}" in manifest
        assert i["derived_from"] == [s["sha256"] for s in evidence["sources"]]
        assert sorted(i["sightings"]) == sorted([setup["sid"], setup["other"]])
    assert cli(home, "verify", out).exit_code == 0
    # the magistrate's report shows the synopsis still and lists both files with their hashes
    report = (out / "data" / "report.html").read_text(encoding="utf-8")
    assert "Synopses (derived)" in report and report.count("data:image/png;base64,") == 1
    for i in items:
        assert i["file"] in report and i["sha256"] in report
    # the parked car was not exported: its plate is blurred on the package's still
    still = cv2.imread(str(out / next(i["file"] for i in items if i["file"].endswith(".png"))))
    x1, y1, x2, y2 = eb.PARKED_PLATE
    drawn = {p["sighting_id"]: p for p in json.loads(synopsis(
        home, tmp_path / "plain.png", "--json").stdout)["passages"]}
    assert not drawn[setup["other"]]["moved"]  # drawn at its own place on both stills
    plain = cv2.imread(str(tmp_path / "plain.png"))
    assert still[y1 + 2:y2 - 2, x1 + 2:x2 - 2].std() < plain[y1 + 2:y2 - 2, x1 + 2:x2 - 2].std() / 2
    records = audit_records(home)
    made = [x for x in records if x.get("action") == "synopsis"
            and x["objects"].get("package_id") == evidence["package_id"]]
    assert len(made) == 1 and made[0]["result"] == "done"


def test_a_package_whose_synopsis_names_no_source_does_not_verify(tmp_path):
    from relecture.requisitions.package_verify import _check_evidence

    root = tmp_path / "p"
    (root / "data" / "synopsis").mkdir(parents=True)
    f = root / "data" / "synopsis" / "cam12.png"
    f.write_bytes(b"png")
    import hashlib

    digest = hashlib.sha256(b"png").hexdigest()
    from relecture.requisitions.export import EVIDENCE_FILE, FORMAT

    (root / EVIDENCE_FILE).write_text(json.dumps({
        "format": FORMAT, "package_id": "x", "sources": [{"sha256": "a" * 64}],
        "items": [{"role": "synopsis", "file": "data/synopsis/cam12.png", "sha256": digest,
                   "derived_from": ["b" * 64]}]}))
    problems: list = []
    _check_evidence(root, {"data/synopsis/cam12.png": digest}, problems)
    assert [p.reason for p in problems] == [
        "data/synopsis/cam12.png: derived_from is not a list of listed sources"]

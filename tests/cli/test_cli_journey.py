"""`relecture journey` and `export --journey` through the CLI on a catalog written directly
(no detector run): links by plate and by appearance, the scope, the audit, JSON and HTML."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from relecture.catalog import Catalog
from relecture.settings import Home
from tests.cli_builders import REF, audit_records, cli, indexed_home, open_args, sha
from tests.requisitions.test_report_html import CHROMIUM, _chromium

REF2 = "PV 2023/000124"  # cameras 12, 13 and 14


def add_sighting(cat: Catalog, name: str, start_utc: datetime, camera: str,
                 plate: str | None, vector: list[float], colour: str = "white",
                 vtype: str = "van") -> int:
    """A catalogued recording of `camera` with one sighting 1-3 s into it."""
    rid = sha(name)
    cat.db.execute("INSERT INTO recordings (recording_id, path, camera, start_local, tz, "
                   "clock_offset_s, start_utc, duration_s) VALUES (?,?,?,?,?,?,?,?)",
                   [rid, f"/footage/{name}.mp4", camera, start_utc + timedelta(hours=1),
                    "Europe/Paris", 0.0, start_utc, 60.0])
    sid = cat.db.execute(
        "INSERT INTO sightings (recording_id, camera, track_id, first_t, last_t, first_utc, "
        "last_utc, vehicle_type, colour, plate, plate_conf, best_t, embedding_space) "
        "VALUES (?,?,1,1.0,3.0,?,?,?,?,?,?,2.0,'t') RETURNING sighting_id",
        [rid, camera, start_utc + timedelta(seconds=1), start_utc + timedelta(seconds=3),
         vtype, colour, plate, 0.9 if plate else None]).fetchone()[0]
    if plate:
        cat.db.execute("INSERT INTO plate_reads VALUES (?, 2.0, ?, 0.9, 0, 0, 1, 1, 't')",
                       [sid, plate])
    cat.db.execute("INSERT INTO embeddings VALUES (?, 't', ?)", [sid, vector])
    return sid


@pytest.fixture
def env(tmp_path):
    """REF over camera 12 (13:55-14:10 Paris); REF2 over cameras 12, 13 and 14. The van
    AB-123-CD passes camera 12 at 13:00:01 UTC, then camera 13 at 13:04:01 read with an OCR
    confusion; a plateless van like it passes camera 14 at 13:06:01, a grey car too."""
    env = indexed_home(tmp_path)
    home = env["home"]
    assert cli(home, *open_args(REF2), "--camera", "13", "--camera", "14").exit_code == 0
    t = datetime(2023, 1, 30, 13, 0)
    with Catalog(Home(home)) as cat:
        env["van12"] = add_sighting(cat, "v12", t, "12", "AB123CD", [1.0, 0.0, 0.0])
        env["van13"] = add_sighting(cat, "v13", t + timedelta(minutes=4), "13", "A8123CD",
                                    [0.9, 0.3, 0.0])
        env["van14"] = add_sighting(cat, "v14", t + timedelta(minutes=6), "14", None,
                                    [0.98, 0.0, 0.2])
        env["car14"] = add_sighting(cat, "c14", t + timedelta(minutes=6, seconds=40), "14",
                                    None, [0.0, 1.0, 0.0], "grey", "car")
        env["other13"] = add_sighting(cat, "o13", t + timedelta(minutes=5), "13", "FA264PN",
                                      [1.0, 0.0, 0.0])
    return env


def journey_json(home, *args):
    r = cli(home, "journey", *args, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    return json.loads(r.stdout), r.stderr


def test_journey_links_by_plate_then_by_appearance_in_time_order(env):
    data, stderr = journey_json(env["home"], str(env["van12"]), "-r", REF2)
    passages = data["passages"]
    assert [p["sighting_id"] for p in passages] == [env["van12"], env["van13"], env["van14"]]
    assert [p["link"]["by"] for p in passages] == ["start", "plate", "appearance"]
    assert passages[1]["link"]["score"] == pytest.approx(0.875)  # B read 8: OCR confusion
    assert 0.5 <= passages[2]["link"]["score"] < 1 and "similarity" in passages[2]["reason"]
    for p in passages:
        assert {"sighting_id", "camera", "first_utc", "last_utc", "link"} <= p.keys()
        assert set(p["link"]) == {"by", "score"}
    assert [p["first_utc"] for p in passages] == sorted(p["first_utc"] for p in passages)
    # the look-alike with another plate read is left out, and said to be
    assert env["other13"] not in {p["sighting_id"] for p in passages}
    assert "another plate" in stderr
    assert "no travel-time constraint beyond order in time" in data["travel_check"]


def test_within_bounds_how_far_appearance_links_look(env):
    """The look-alike passes camera 14 six minutes after the start: --within 5 leaves it out
    (plate links are not bounded), --within 7 keeps it."""
    near, _ = journey_json(env["home"], str(env["van12"]), "-r", REF2, "--within", "5")
    assert [p["sighting_id"] for p in near["passages"]] == [env["van12"], env["van13"]]
    far, _ = journey_json(env["home"], str(env["van12"]), "-r", REF2, "--within", "7")
    assert env["van14"] in {p["sighting_id"] for p in far["passages"]}


def test_journey_from_a_plate_starts_at_its_earliest_best_match(env):
    data, _ = journey_json(env["home"], "--plate", "AB-123-CD", "-r", REF2)
    assert data["start"] == env["van12"] and data["plate"] == "AB123CD"
    assert [p["link"]["by"] for p in data["passages"]][:2] == ["start", "plate"]
    data, _ = journey_json(env["home"], "--plate", "ZZ-999-ZZ", "-r", REF2)
    assert data["passages"] == [] and "no sighting with plate" in data["notes"][0]


def test_journey_reads_only_the_requisitions_cameras(env):
    # REF covers camera 12 only: the passages on cameras 13 and 14 are not read
    data, _ = journey_json(env["home"], str(env["van12"]), "-r", REF)
    assert [p["sighting_id"] for p in data["passages"]] == [env["van12"]]


def test_a_start_outside_the_requisition_is_refused_and_audited(env):
    home = env["home"]
    for sid in (env["van13"], 999):  # outside REF, or unknown: the same answer
        r = cli(home, "journey", str(sid), "-r", REF)
        assert r.exit_code == 5, r.output
        assert f"no sighting #{sid} within requisition {REF}" in r.stderr and r.stdout == ""
    refused = [a for a in audit_records(home) if a.get("result") == "refused"]
    assert [a["objects"]["sightings"] for a in refused] == [[env["van13"]], [999]]
    assert all(a["action"] == "search" and "journey" in a["objects"]["query_fields"]
               for a in refused)
    assert cli(home, "journey", str(env["van12"])).exit_code == 5  # no requisition
    assert cli(home, "journey", "-r", REF).exit_code == 2  # neither a sighting nor a plate
    assert cli(home, "journey", "1", "--plate", "AB*", "-r", REF).exit_code == 2


def test_journey_is_audited_as_a_search_of_kind_journey(env):
    home = env["home"]
    journey_json(home, str(env["van12"]), "-r", REF2)
    entry = [a for a in audit_records(home) if a.get("action") == "search"][-1]
    assert entry["result"] == "done" and entry["legal_basis"]["reference"] == REF2
    assert entry["objects"]["query_fields"] == ["journey", "like"]
    assert entry["objects"]["sightings"] == [env["van12"], env["van13"], env["van14"]]
    assert "AB123CD" not in json.dumps(entry)  # the plate only as the request's HMAC


def test_camera_positions_bound_the_travel_time(env):
    home = env["home"]
    # camera 14 is 30 km from camera 12: 6 minutes is 300 km/h, too fast for a look-alike
    with open(home / "site.toml", "a", encoding="utf-8") as f:
        f.write('\n[cameras.12]\nlatitude = 49.25\nlongitude = 4.03\nlabel = "Erlon"\n'
                '[cameras.13]\nlatitude = 49.26\nlongitude = 4.04\n'
                '[cameras.14]\nlatitude = 49.52\nlongitude = 4.03\n')
    data, stderr = journey_json(home, str(env["van12"]), "-r", REF2)
    assert [p["sighting_id"] for p in data["passages"]] == [env["van12"], env["van13"]]
    assert "1.3" in data["passages"][1]["travel"] and "km/h" in data["passages"][1]["travel"]
    assert "travel time implausible" in stderr
    assert set(data["positions"]) == {"12", "13", "14"}


def test_text_output_says_why_each_link_was_made(env):
    r = cli(env["home"], "journey", str(env["van12"]), "-r", REF2)
    assert r.exit_code == 0, r.stderr
    assert f"#{env['van13']}: plate AB123CD: read A8123CD (0.90), approximate" in r.stdout
    assert "3 passage(s)" in r.stderr and "not an identification" in r.stderr


def test_journey_html_page_is_self_contained(env, tmp_path):
    page = tmp_path / "journey.html"
    r = cli(env["home"], "journey", str(env["van12"]), "-r", REF2, "--html", page)
    assert r.exit_code == 0, r.stderr
    html = page.read_text(encoding="utf-8")
    assert html.count('class="passage"') == 3 and 'class="cameras"' not in html  # no positions
    assert "no travel-time constraint" in html and "not an identification" in html
    assert "src=\"http" not in html and "href=" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_journey_page_renders_in_a_headless_browser(env, tmp_path):
    page = tmp_path / "journey.html"
    assert cli(env["home"], "journey", str(env["van12"]), "-r", REF2, "--html",
               page).exit_code == 0
    dom = _chromium(["--dump-dom", page.resolve().as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="passage"') == 3 and "Timeline" in dom.stdout


def test_export_journey_packages_its_passages_and_the_report_shows_the_timeline(env, tmp_path):
    home = env["home"]
    with Catalog(Home(home)) as cat:  # the directly written recordings have no footage:
        ids = [env["van12"], env["van13"]]  # export the subject's clip instead
        cat.db.execute("UPDATE sightings SET plate = 'AB123CD' WHERE sighting_id = ?",
                       [env["sid"]])
        cat.db.execute("DELETE FROM sightings WHERE sighting_id IN "
                       "(SELECT unnest(?::BIGINT[]))", [ids])
    r = cli(home, "export", "-r", REF, "--journey", str(env["sid"]), "--out", tmp_path / "pkg")
    assert r.exit_code == 0, r.output
    evidence = json.loads((tmp_path / "pkg/data/evidence.json").read_text(encoding="utf-8"))
    assert [p["sighting_id"] for p in evidence["journey"]["passages"]] == [env["sid"]]
    assert [h["sighting_id"] for h in evidence["hits"]] == [env["sid"]]
    report = (tmp_path / "pkg/data/report.html").read_text(encoding="utf-8")
    assert "Journey across cameras" in report and 'class="timeline"' in report
    assert cli(home, "verify", tmp_path / "pkg").exit_code == 0
    r = cli(home, "export", "-r", REF, "--out", tmp_path / "none")
    assert r.exit_code == 2 and "--journey" in r.stderr


def test_export_journey_within_bounds_its_appearance_links_as_journey_does(env, tmp_path):
    """Export first makes the journey (audited as a search): --within 5 leaves the camera-14
    look-alike out of it, --within 7 takes it in. (These rows have no footage, so the export
    itself then stops on the missing clip: exit 2, nothing written.)"""
    home = env["home"]
    for minutes, wanted in (("5", [env["van12"], env["van13"]]),
                            ("7", [env["van12"], env["van13"], env["van14"]])):
        r = cli(home, "export", "-r", REF2, "--journey", str(env["van12"]), "--within", minutes,
                "--out", tmp_path / f"pkg{minutes}")
        assert r.exit_code == 2 and not (tmp_path / f"pkg{minutes}").exists(), r.output
        entry = [a for a in audit_records(home) if a.get("action") == "search"][-1]
        assert entry["objects"]["query_fields"] == ["journey", "like"]
        assert entry["objects"]["sightings"] == wanted

"""`relecture search | show | requisition | audit` through the CLI: refused without an open
requisition or outside its scope, says how the query was understood, audits every read."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from relecture.catalog import Catalog
from relecture.settings import Home

from tests import evidence_builders as eb
from tests.cli_builders import (REF, add_recording, audit_records, cli, indexed_home, open_args,
                                search_json, write_site)
from tests.requisitions.test_report_html import CHROMIUM, _chromium


@pytest.fixture
def env(tmp_path):
    return indexed_home(tmp_path)


def _searches(home):
    return [r for r in audit_records(home) if r.get("action") == "search"]


def _refused(home):
    """(action, actor) of each refused entry: a refused action runs nothing but is audited."""
    return [(r["action"], r["actor"]) for r in audit_records(home)
            if r.get("result") == "refused"]


def test_search_without_requisition_is_refused_and_not_run(env):
    r = cli(env["home"], "search", "voiture rouge")
    assert r.exit_code == 5
    assert "needs an open requisition" in r.stderr and r.stdout == ""
    r = cli(env["home"], "search", "voiture rouge", "-r", "PV inconnu")
    assert r.exit_code == 2 and "no requisition 'PV inconnu'" in r.stderr
    assert _refused(env["home"]) == [("search", "test-operator")]  # the refusal, no search
    assert _searches(env["home"])[0]["legal_basis"] is None


@pytest.mark.parametrize("args, user", [
    (["--camera", "13"], "test-operator"),  # camera not in the requisition
    (["--from", "2023-01-30T16:00", "--to", "2023-01-30T17:00"], "test-operator"),  # time
    ([], "municipal"),  # the user sees camera 13 only; the requisition is on camera 12
    ([], "auditor"),  # role may not search
])
def test_search_outside_scope_is_refused(env, args, user):
    write_site(env["home"])
    r = cli(env["home"], "search", "", "-r", REF, *args, user=user)
    assert r.exit_code == 5, r.stdout + r.stderr
    assert "error:" in r.stderr and r.stdout == ""
    assert _refused(env["home"]) == [("search", user)]
    assert _searches(env["home"])[0]["result_count"] is None  # nothing was searched


def test_search_json_understood_as_and_one_audit_record(env):
    home = env["home"]
    r = cli(home, "search", "voiture rouge caméra 12", "-r", REF, "--json", "--strict")
    assert r.exit_code == 0, r.stderr
    assert "understood as: camera 12 · car only (strict) · red only (strict)" in r.stderr
    data = json.loads(r.stdout)
    assert data["requisition"] == REF and data["total"] == 1
    assert [h["sighting_id"] for h in data["hits"]] == [env["sid"]]
    assert data["hits"][0]["plate"] == eb.SUBJECT_PLATE
    assert data["hits"][0]["first_camera_time"].startswith("2023-01-30T14:00:02")
    (rec,) = _searches(home)
    assert rec["legal_basis"] == {"reference": REF, "type": "60-1"}
    assert rec["objects"]["sightings"] == [env["sid"]] and rec["result_count"] == 1
    assert rec["objects"]["cameras"] == ["12"]
    assert set(rec["objects"]["query_fields"]) == {"cameras", "types", "colours"}
    assert "rouge" not in (home / "audit.jsonl").read_text()  # the query is an HMAC only
    v = cli(home, "audit", "verify")
    assert v.exit_code == 0 and "audit log intact" in v.stdout


def test_hits_and_total_never_leave_the_requisition_scope(env):
    home = env["home"]
    with Catalog(Home(home)) as cat:  # same time, other camera; same camera, other time
        add_recording(cat, "cam13", datetime(2023, 1, 30, 13, 0), camera="13")
        add_recording(cat, "later", datetime(2023, 1, 30, 15, 0), camera="12")
    data = search_json(home, "", "-r", REF)
    assert data["total"] == 2
    assert {h["sighting_id"] for h in data["hits"]} == {env["sid"], env["other"]}
    # A window overlapping the requisition's range but reaching beyond it is clipped to it.
    data = search_json(home, "", "-r", REF, "--from", "2023-01-30T13:00", "--to",
                       "2023-01-30T18:00")
    assert data["total"] == 2
    assert cli(home, "search", "camionnette", "-r", REF, "--camera", "cam 12").exit_code == 0


def test_flags_scope_table_and_utc(env):
    home = env["home"]
    data = search_json(home, "", "-r", REF, "--plate", "GH-48?-KT")
    assert [h["sighting_id"] for h in data["hits"]] == [env["sid"]]
    data = search_json(home, "", "-r", REF, "--colour", "bleu", "--utc", "--from",
                       "2023-01-30T12:59", "--to", "2023-01-30T13:01", "--strict")
    assert [h["sighting_id"] for h in data["hits"]] == [env["other"]]
    assert "(UTC)" in data["understood"]
    r = cli(home, "search", "", "-r", REF, "--limit", "1")
    assert r.exit_code == 0 and "1 of 2" in r.stdout and "understood as: every sighting" in r.stderr
    r = cli(home, "search", "voiture pas rouge", "-r", REF)
    assert r.exit_code == 2 and "error:" in r.stderr  # negations are refused, not ignored
    r = cli(home, "search", "voiture", "-r", REF, "--strict")
    assert r.exit_code == 2 and "name a colour" in r.stderr  # nothing to be strict about


def test_free_text_without_text_model_is_one_note(env):
    r = cli(env["home"], "search", "voiture rouge galerie", "-r", REF, "--json")
    assert r.exit_code == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "no text-capable embedding model" in notes[0]
    assert json.loads(r.stdout)["total"] == 2  # filtered by type; the red car ranks first
    assert json.loads(r.stdout)["hits"][0]["sighting_id"] == env["sid"]


def test_like_a_sighting_outside_the_catalog_or_scope(env):
    r = cli(env["home"], "search", "", "-r", REF, "--like", "999")
    assert r.exit_code == 5 and "no sighting #999 within requisition" in r.stderr
    assert _searches(env["home"])[0]["objects"]["sightings"] == [999]  # what was asked


def test_show_details_are_audited_as_a_view(env):
    home = env["home"]
    r = cli(home, "show", str(env["sid"]), "-r", REF, "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["plate"] == eb.SUBJECT_PLATE and d["plate_reads"][0]["text"] == eb.SUBJECT_PLATE
    assert d["recording"]["path"] == str(env["clip"])
    assert d["offsets_s"] == {"first": 2.5, "last": 3.5, "best": 3.0}
    assert d["clock_offset_s"] == 2.5 and d["first_camera_time"].startswith("2023-01-30 14:00:02")
    last = audit_records(home)[-1]
    assert last["action"] == "view" and last["objects"]["sightings"] == [env["sid"]]
    r = cli(home, "show", str(env["sid"]), "-r", REF)
    assert r.exit_code == 0 and "plate reads" in r.stdout and "GH482KT" in r.stdout
    assert cli(home, "show", "999", "-r", REF).exit_code == 5  # as if it were out of scope
    assert cli(home, "show", str(env["sid"])).exit_code == 5
    assert _refused(home) == [("view", "test-operator")] * 2


def test_tampered_audit_log_fails_verify_naming_the_line(env):
    home = env["home"]
    search_json(home, "", "-r", REF)
    search_json(home, "voiture", "-r", REF)
    log = home / "audit.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    assert '"result_count":2' in lines[1]
    lines[1] = lines[1].replace('"result_count":2', '"result_count":1')
    log.write_text("".join(lines))
    r = cli(home, "audit", "verify")
    assert r.exit_code == 4
    assert "seq 2 (line 2)" in r.stderr and "canonical form" not in r.stderr
    r = cli(home, "audit", "verify", "--json")
    assert r.exit_code == 4 and json.loads(r.stdout)["broken_line"] == 2


def test_audit_show_lists_the_requisition_entries(env):
    home = env["home"]
    search_json(home, "", "-r", REF)
    r = cli(home, "audit", "show", "-r", REF, "--json")
    assert r.exit_code == 0, r.stderr
    assert [e["action"] for e in json.loads(r.stdout)] == ["requisition_open", "search"]
    r = cli(home, "audit", "show", "-r", REF)
    assert r.exit_code == 0 and "2 entries" in r.stdout
    write_site(home)
    assert cli(home, "audit", "show", "-r", REF, user="municipal").exit_code == 5


def test_requisition_lifecycle(env):
    home = env["home"]
    assert cli(home, *open_args()).exit_code == 2  # reference already used
    bad = open_args("PV 2", ) + ["--from", "2023-01-30T15:00"]  # unpaired --from
    r = cli(home, *bad)
    assert r.exit_code == 2 and "pairs" in r.stderr
    r = cli(home, *[a if a != "60-1" else "77-1-1" for a in open_args("PV 3")])
    assert r.exit_code == 2 and "names its authorising magistrate" in r.stderr
    r = cli(home, "requisition", "list", "--json")
    assert [d["reference"] for d in json.loads(r.stdout)] == [REF]
    table = cli(home, "requisition", "list").stdout
    assert "1 requisition(s)" in table and REF in table and "open" in table
    r = cli(home, "requisition", "show", REF, "--json")
    d = json.loads(r.stdout)
    assert d["scope"] == {"cameras": ["12"],
                          "ranges": [["2023-01-30T12:55:00Z", "2023-01-30T13:10:00Z"]]}
    assert cli(home, "requisition", "close", REF, "--reason", "classée").exit_code == 0
    assert json.loads(cli(home, "requisition", "list", "--status", "closed", "--json")
                      .stdout)[0]["status"] == "closed"
    r = cli(home, "search", "", "-r", REF)
    assert r.exit_code == 5 and "closed" in r.stderr


def test_contact_sheet_is_written_whole(env, tmp_path):
    page = tmp_path / "sheet.html"
    r = cli(env["home"], "search", "", "-r", REF, "--html", page)
    assert r.exit_code == 0, r.stderr
    html = page.read_text(encoding="utf-8")
    assert "Understood as: every sighting" in html and REF in html
    assert eb.SUBJECT_PLATE in html and "not an identification" in html
    assert not list(tmp_path.glob(".sheet.html.*"))  # no temporary left beside it
    r = cli(env["home"], "search", "", "-r", REF, "--html", tmp_path / "nope" / "x.html")
    assert r.exit_code == 2


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_contact_sheet_renders_in_a_headless_browser(env, tmp_path):
    page = tmp_path / "sheet.html"
    assert cli(env["home"], "search", "", "-r", REF, "--html", page).exit_code == 0
    dom = _chromium(["--dump-dom", page.resolve().as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert eb.SUBJECT_PLATE in dom.stdout and "Understood as" in dom.stdout
    assert dom.stdout.count('class="card"') == 2


def test_hours_without_a_day_apply_to_the_requisitions_day(env):
    # The requisition covers 30/01/2023 13:55-14:10; today is years later, so "14h-15h" alone
    # would mean today's or yesterday's and be refused as outside the requisition.
    data = search_json(env["home"], "entre 14h et 15h", "-r", REF)
    assert env["sid"] in {h["sighting_id"] for h in data["hits"]}
    assert "on each day of the requisition: 2023-01-30" in data["understood"]
    r = cli(env["home"], "search", "entre 18h et 19h", "-r", REF)
    assert r.exit_code == 5 and "outside requisition" in r.stderr  # those hours meet no range

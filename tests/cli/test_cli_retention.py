"""Retention through the CLI: purge removes what is past retention and not held, holds keep
a procedure's data, everything is audited (counts only), and the transparency report counts
it without personal data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from relecture.catalog import Catalog
from relecture.settings import Home
from relecture.search.vectors import VectorIndex
from tests.cli_builders import (REF, add_recording, audit_records, cli, indexed_home,
                                search_json, sha, write_site)

TABLES = ("recordings", "sightings", "plate_reads", "embeddings", "person_tracks")


def _counts(home) -> dict:
    with Catalog(Home(home), read_only=True) as cat:
        return {t: cat.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _ids(home, table="sightings", col="sighting_id") -> set:
    with Catalog(Home(home), read_only=True) as cat:
        return {r[0] for r in cat.db.execute(f"SELECT {col} FROM {table}").fetchall()}


@pytest.fixture
def env(tmp_path):
    env = indexed_home(tmp_path)  # recording A: camera 12, 30/01/2023 (long past retention)
    home = env["home"]
    write_site(home, retention_days=10)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with Catalog(Home(home)) as cat:
        cat.db.execute("INSERT INTO embeddings VALUES (?, 't', ?)", [env["sid"], [0.0, 1.0, 0.0]])
        cat.db.execute("UPDATE sightings SET embedding_space = 't' WHERE sighting_id = ?",
                       [env["sid"]])
        env["held"] = add_recording(cat, "B", datetime(2023, 1, 30, 13, 0))  # in the scope
        env["recent"] = add_recording(cat, "C", now - timedelta(days=2))
        VectorIndex.open(cat, "t")  # a FAISS cache holding every vector
    env["faiss"] = home / "vectors" / "t.faiss"
    assert env["faiss"].exists()
    return env


def test_purge_removes_old_unheld_data_and_keeps_held_and_recent(env):
    home = env["home"]
    r = cli(home, "hold", "add", "-r", REF, "--recording", sha("B")[:12])
    assert r.exit_code == 0 and "1 hold(s) placed" in r.stdout, r.stderr
    before, n_audit = _counts(home), len(audit_records(home))

    dry = cli(home, "purge", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    d = json.loads(dry.stdout)
    assert (d["recordings"], d["sightings"], d["plate_reads"], d["embeddings"],
            d["person_tracks"], d["thumbnails"], d["held_recordings"]) == (1, 2, 2, 1, 1, 2, 1)
    assert _counts(home) == before and len(audit_records(home)) == n_audit  # nothing done

    r = cli(home, "purge")
    assert r.exit_code == 0 and "removed 1 recording(s), 2 sighting(s)" in r.stdout, r.stderr
    assert _ids(home) == {env["held"], env["recent"]}
    assert _ids(home, "recordings", "recording_id") == {sha("B"), sha("C")}
    assert _counts(home) == {"recordings": 2, "sightings": 2, "plate_reads": 2,
                             "embeddings": 2, "person_tracks": 0}
    thumbs = {p.name for p in (home / "thumbnails").iterdir()}
    assert thumbs == {f"{sha('B')[:16]}_1.jpg", f"{sha('C')[:16]}_1.jpg"}
    assert not env["faiss"].exists()  # the cache held purged vectors: dropped, rebuilt later
    rec = audit_records(home)[-1]
    assert rec["action"] == "purge" and rec["role"] == "operator" and rec["legal_basis"] is None
    assert rec["objects"] == {"counts": {"recordings": 1, "sightings": 2, "plate_reads": 2,
                                         "embeddings": 1, "person_tracks": 1, "thumbnails": 2,
                                         "held_recordings": 1}}
    # The held sighting is still searchable under the requisition.
    assert [h["sighting_id"] for h in search_json(home, "", "-r", REF)["hits"]] == [env["held"]]

    # Released, the held recording goes at the next purge; the recent one stays.
    r = cli(home, "hold", "release", "-r", REF, "--all", "--reason", "jugement définitif")
    assert r.exit_code == 0 and "1 hold(s) released" in r.stdout, r.stderr
    assert cli(home, "purge").exit_code == 0
    assert _ids(home) == {env["recent"]}
    assert cli(home, "audit", "verify").exit_code == 0


def test_hold_on_a_sighting_keeps_its_recording_and_scope_is_checked(env):
    home = env["home"]
    r = cli(home, "hold", "add", "-r", REF, "--sighting", env["sid"])
    assert r.exit_code == 0, r.stderr
    holds = json.loads(cli(home, "hold", "list", "--json").stdout)
    assert [(h["sighting_id"], h["requisition"]) for h in holds] == [(env["sid"], REF)]
    table = cli(home, "hold", "list").stdout
    assert "1 legal hold(s)" in table and f"#{env['sid']}" in table and REF in table
    assert cli(home, "purge").exit_code == 0
    assert env["sid"] in _ids(home) and env["other"] in _ids(home)  # whole recording kept
    assert env["held"] not in _ids(home)  # B was not held this time
    # Outside the requisition's time ranges, without a requisition, unknown: refused.
    assert cli(home, "hold", "add", "-r", REF, "--sighting", env["recent"]).exit_code == 5
    assert cli(home, "hold", "add", "--sighting", env["sid"]).exit_code == 5
    assert cli(home, "hold", "add", "-r", REF, "--recording", "f" * 64).exit_code == 5
    assert cli(home, "hold", "add", "-r", REF).exit_code == 2
    legal = [r for r in audit_records(home) if r.get("action") == "legal_hold"]
    assert [r["result"] for r in legal] == ["done"] + ["refused"] * 3
    assert legal[0]["objects"]["counts"] == {"placed": 1}


def test_purge_needs_the_operator_role_and_a_sane_date(env):
    home = env["home"]
    r = cli(home, "purge", user="municipal")
    assert r.exit_code == 5 and "operator" in r.stderr
    assert cli(home, "purge", "--before", "demain").exit_code == 2
    assert cli(home, "purge", "--before", "2999-01-01").exit_code == 2
    # --before can only purge more: an early date still applies the 10-day retention.
    d = json.loads(cli(home, "purge", "--dry-run", "--json", "--before", "2020-01-01").stdout)
    assert d["recordings"] == 2
    # A later --before also purges the recent recording (2 days old).
    d = json.loads(cli(home, "purge", "--dry-run", "--json", "--before",
                       datetime.now().isoformat(timespec="seconds")).stdout)
    assert d["recordings"] == 3


def test_transparency_report_counts_without_personal_data(env):
    home = env["home"]
    search_json(home, "voiture rouge", "-r", REF)
    search_json(home, "", "-r", REF)
    assert cli(home, "show", env["sid"], "-r", REF).exit_code == 0
    assert cli(home, "hold", "add", "-r", REF, "--sighting", env["sid"]).exit_code == 0
    assert cli(home, "purge").exit_code == 0
    year = datetime.now(timezone.utc).year
    r = cli(home, "report", "transparency", "--year", year, "--json", user="auditor")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["requisitions_opened"], d["searches"], d["sightings_viewed"], d["exports"],
            d["purges"], d["legal_holds_placed"], d["distinct_cameras_accessed"]) == \
        (1, 2, 1, 0, 1, 1, 1)
    assert d["requisitions_by_type"] == {"60-1": 1} and d["recordings_purged"] == 1
    for personal in ("test-operator", REF, "GH482KT", "rouge", "BR Lyon"):
        assert personal not in r.stdout
    assert json.loads(cli(home, "report", "transparency", "--year", year - 1, "--json",
                          user="auditor").stdout)["searches"] == 0
    text = cli(home, "report", "transparency", "--year", year)
    assert text.exit_code == 0 and "searches" in text.stdout
    # A broken audit log gives no report.
    log = home / "audit.jsonl"
    log.write_text(log.read_text().replace('"action":"search"', '"action":"view"', 1))
    assert cli(home, "report", "transparency", "--year", year).exit_code == 4

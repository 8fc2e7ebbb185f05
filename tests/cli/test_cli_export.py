"""`relecture export` and `relecture verify` through the CLI: scope-checked, audited,
checkpointed, written whole; any changed byte fails verification naming the file."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.cli_builders import REF, audit_records, cli, indexed_home, open_args, search_json


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-export")
    env = indexed_home(root)
    search_json(env["home"], "voiture rouge", "-r", REF)  # the search that found the hit
    out = root / "packages" / "PV-2023-000123"
    r = cli(env["home"], "export", "-r", REF, "--hits", str(env["sid"]), "--out", out)
    assert r.exit_code == 0, r.stdout + r.stderr
    return {**env, "root": root, "out": out, "stdout": r.stdout}


def test_export_is_audited_checkpointed_and_verifies(exported):
    home, out = exported["home"], exported["out"]
    ev = json.loads((out / "data/evidence.json").read_text())
    records = audit_records(home)
    export = next(r for r in records if r.get("action") == "export")
    assert export["objects"]["package_id"] == ev["package_id"]
    assert export["objects"]["sightings"] == [exported["sid"]]
    assert records[-1]["record"] == "checkpoint"  # signed just after the export entry
    assert ev["audit"]["chain_head"]["seq"] == export["seq"]
    assert [e["action"] for e in ev["audit"]["extract"]] == ["requisition_open", "search",
                                                             "export"]
    assert ev["legal"]["reference"] == REF and ev["legal"]["magistrate"] == "flagrance"
    search = ev["audit"]["extract"][1]
    assert any(search["objects"]["query_hmac"] in q for q in ev["hits"][0]["queries"])
    assert not list(out.parent.glob(".*partial*"))
    pub = home / "keys" / "audit_ed25519.pub.pem"
    r = cli(home, "verify", out, "--public-key", pub)
    assert r.exit_code == 0 and "intact" in r.stdout and "trusted key" in r.stdout
    assert cli(home, "audit", "verify", "--expected-head",
               f"{ev['audit']['chain_head']['seq']}:{ev['audit']['chain_head']['hash']}"
               ).exit_code == 0


def test_one_flipped_byte_fails_verify_naming_the_file(exported, tmp_path):
    copy = shutil.copytree(exported["out"], tmp_path / "copy")
    master = next((copy / "data/hits" / str(exported["sid"])).glob("master.*"))
    data = bytearray(master.read_bytes())
    data[len(data) // 2] ^= 0x01
    master.write_bytes(bytes(data))
    r = cli(exported["home"], "verify", copy)
    assert r.exit_code == 4
    assert f"data/hits/{exported['sid']}/{master.name}" in r.stderr
    r = cli(exported["home"], "verify", copy, "--json")
    assert r.exit_code == 4
    assert any(p["file"].endswith(master.name) for p in json.loads(r.stdout)["problems"])


def test_export_refusals(exported, tmp_path):
    home, sid = exported["home"], exported["sid"]
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    n = len(audit_records(home))
    r = cli(home, "export", "-r", REF, "--hits", sid, "--out", used)
    assert r.exit_code == 2 and "not empty" in r.stderr
    assert cli(home, "export", "--hits", sid, "--out", tmp_path / "a").exit_code == 5
    assert cli(home, "export", "-r", REF, "--hits", "999", "--out", tmp_path / "b").exit_code == 5
    assert cli(home, "export", "-r", REF, "--hits", "x1", "--out", tmp_path / "c").exit_code == 2
    # A requisition whose time range misses the hit (14:05-14:10; the car passed at 14:00).
    assert cli(home, *open_args("PV 2", start="2023-01-30T14:05")).exit_code == 0
    r = cli(home, "export", "-r", "PV 2", "--hits", sid, "--out", tmp_path / "d")
    assert r.exit_code == 5 and f"#{sid}" in r.stderr
    added = [(e["action"], e["result"]) for e in audit_records(home)[n:]]
    assert added == [("export", "refused")] * 2 + [("requisition_open", "done"),
                                                   ("export", "refused")]  # nothing exported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]

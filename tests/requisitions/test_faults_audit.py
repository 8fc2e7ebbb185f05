"""Fault suite (issue 10): each hole replayed through the CLI on a forged or hostile input,
asserting the exit code, the one-line message and what the catalog and the audit log hold
afterwards. One home is built per module and copied for each test, to stay fast."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from datetime import datetime

from relecture.catalog import Catalog
from relecture.requisitions import keys
from relecture.requisitions.audit_anchor import read_home
from relecture.settings import Home
from tests import evidence_builders as eb
from tests.cli_builders import REF, USER, add_recording, audit_records, cli, indexed_home, open_args

SITE = ("retention_days = 30\naudit_checkpoint_every = 3\n\n"
        '[[users]]\nname = "test-operator"\nroles = ["operator", "investigator"]\n'
        'cameras = ["*"]\n')


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    """A home with one indexed clip, requisition REF open and six searches audited: with a
    checkpoint every 3 events, the log holds checkpoints at seq 4 and 8, then one event."""
    root = tmp_path_factory.mktemp("faults")
    env = indexed_home(root, with_requisition=False)
    (env["home"] / "site.toml").write_text(SITE, encoding="utf-8")
    with Catalog(Home(env["home"])) as cat:  # a sighting that exists, outside the scope
        env["outside"] = add_recording(cat, "cam13", datetime(2023, 1, 30, 13, 0), "13")
    assert cli(env["home"], *open_args()).exit_code == 0
    for _ in range(6):
        assert cli(env["home"], "search", "voiture", "-r", REF).exit_code == 0
    return env


@pytest.fixture
def env(template, tmp_path) -> dict:
    home = shutil.copytree(template["home"], tmp_path / "home")
    return {**template, "home": home}


def one_line_error(result, code: int, *words: str, prefix: str = "error: ") -> str:
    """The single stderr line of a failed command, after checking its exit code and words."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert result.stdout == ""
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _log(home: Path) -> Path:
    return home / "audit.jsonl"


def _head(home: Path) -> Path:
    return home / "audit.head"


def _last_event(home: Path) -> dict:
    return [r for r in audit_records(home) if r["record"] == "event"][-1]


def _cut_before_last_checkpoint(home: Path) -> dict:
    """Truncate the log just before its last checkpoint; return that checkpoint."""
    records = audit_records(home)
    cp = [r for r in records if r["record"] == "checkpoint"][-1]
    lines = _log(home).read_bytes().splitlines(keepends=True)
    _log(home).write_bytes(b"".join(lines[:cp["seq"] - 1]))
    return cp


def test_an_intact_log_verifies_and_names_what_the_catalog_saw(env):
    r = cli(env["home"], "audit", "verify", "--json")
    d = json.loads(r.stdout)
    assert r.exit_code == 0 and d["ok"] and d["records"] == 9 and d["checkpoints"] == 2
    assert d["catalog_seq"] == 9 == int(d["head"].split(":")[0])


@pytest.mark.parametrize("with_format", [False, True])
def test_a_checkpoint_replayed_as_the_head_of_a_cut_log_is_broken(env, with_format):
    """The rollback without the private key: cut before a checkpoint, build a head from the
    checkpoint's own fields and signature (old layout, or the new one with format 2)."""
    home = env["home"]
    cp = _cut_before_last_checkpoint(home)
    head = {"seq": cp["head_seq"], "hash": cp["head_hash"], "key_id": cp["key_id"],
            "signature": cp["signature"], "since_checkpoint": 0}
    if with_format:
        head.update(format=2, log_bytes=_log(home).stat().st_size, log_sha256="0" * 64)
    _head(home).write_text(json.dumps(head))
    cut = _log(home).read_bytes()
    one_line_error(cli(home, "audit", "verify"), 4, "audit log broken")
    # A later search must not extend the cut log: refused, nothing written.
    one_line_error(cli(home, "search", "voiture", "-r", REF), 4, "refusing to append")
    assert _log(home).read_bytes() == cut and read_home(Home(home)).seq == 9


def test_a_deleted_log_and_head_are_broken_not_a_fresh_chain(env):
    home = env["home"]
    _log(home).unlink()
    _head(home).unlink()
    one_line_error(cli(home, "audit", "verify"), 4, "the catalog recorded seq 9",
                   "does not reach")
    one_line_error(cli(home, "search", "voiture", "-r", REF), 4, "refusing to append")
    assert not _log(home).exists()  # no new chain starting at 1


def test_a_deleted_log_head_and_key_are_broken_too(env):
    home = env["home"]
    for p in (_log(home), _head(home), keys.public_key_path(Home(home))):
        p.unlink()
    one_line_error(cli(home, "audit", "verify"), 4, "the log, its head and the site key are gone")


def test_the_checkpoint_cadence_in_the_head_is_signed(env):
    home = env["home"]
    head = json.loads(_head(home).read_text())
    head["since_checkpoint"] = -1000000
    _head(home).write_text(json.dumps(head))
    one_line_error(cli(home, "audit", "verify"), 4, "audit.head")
    one_line_error(cli(home, "search", "voiture", "-r", REF), 4, "refusing to append")


def test_a_search_does_not_append_to_a_log_broken_in_the_middle(env):
    """Only the tail used to be checked: a record rewritten in the middle went unnoticed."""
    home = env["home"]
    lines = _log(home).read_bytes().splitlines(keepends=True)
    edited = lines[2].replace(b'"result_count":2', b'"result_count":0')
    assert edited != lines[2]
    lines[2] = edited
    _log(home).write_bytes(b"".join(lines))
    damaged = _log(home).read_bytes()
    one_line_error(cli(home, "search", "voiture", "-r", REF), 4, "seq 3", "refusing to append")
    assert _log(home).read_bytes() == damaged
    one_line_error(cli(home, "audit", "verify"), 4, "seq 3 (line 3)")


# -- 3: refused actions are audited -----------------------------------------------------------
@pytest.mark.parametrize("args, user, action", [
    (["search", "voiture", "-r", REF, "--camera", "13"], USER, "search"),
    (["show", "{outside}", "-r", REF], USER, "view"),
    (["export", "-r", REF, "--hits", "{outside}", "--out", "{tmp}/pkg"], USER, "export"),
    (["search", "voiture", "-r", REF], "intrus", "search"),  # not declared in site.toml
])
def test_a_refused_action_is_audited_as_refused(env, tmp_path, args, user, action):
    home = env["home"]
    args = [a.format(outside=env["outside"], tmp=tmp_path) for a in args]
    line = one_line_error(cli(home, *args, user=user), 5)
    last = _last_event(home)
    assert (last["action"], last["actor"], last["result"]) == (action, user, "refused")
    assert last["reason"] == line.removeprefix("error: ")
    assert last["legal_basis"]["reference"] == REF and last["result_count"] is None
    assert last["role"] == (None if user == "intrus" else "investigator")
    asked = last["objects"]
    if action == "search":
        assert len(asked["query_hmac"]) == 64 and "voiture" not in json.dumps(last)
        assert asked["cameras"] == (["13"] if "--camera" in args else [])
    else:
        assert asked["sightings"] == [env["outside"]]
    assert not (tmp_path / "pkg").exists()
    assert cli(home, "audit", "verify").exit_code == 0  # written through the chain


# -- 16: one answer for "outside the scope" and "does not exist" -------------------------------
@pytest.mark.parametrize("command", [["show", "{id}"], ["search", "", "--like", "{id}"],
                                     ["export", "--hits", "{id}", "--out", "{tmp}/pkg"]])
def test_an_out_of_scope_sighting_and_an_unknown_one_get_the_same_answer(env, tmp_path,
                                                                          command):
    home, answers = env["home"], []
    for sid in (env["outside"], 987654):
        args = [a.format(id=sid, tmp=tmp_path) for a in command]
        line = one_line_error(cli(home, *args, "-r", REF), 5,
                              f"no sighting #{sid} within requisition {REF}")
        answers.append(line.replace(f"#{sid} ", "#N "))
        assert _last_event(home)["objects"]["sightings"] == [sid]
    assert answers[0] == answers[1]


# -- 14: huge ids, a package without its tag manifest -----------------------------------------
HUGE = "99999999999999999999999"


@pytest.mark.parametrize("args", [
    ["show", HUGE, "-r", REF],
    ["search", "", "-r", REF, "--like", HUGE],
    ["search", f"voiture comme #{HUGE}", "-r", REF],
    ["export", "-r", REF, "--hits", HUGE, "--out", "{tmp}/pkg"],
    ["hold", "add", "-r", REF, "--sighting", HUGE],
])
def test_a_huge_id_is_bad_input_in_one_line(env, tmp_path, args):
    home = env["home"]
    before = _log(home).read_bytes()
    r = cli(home, *[a.format(tmp=tmp_path) for a in args])
    one_line_error(r, 2, f"sighting id {'#' if 'comme' in args[1] else ''}{HUGE} is not a "
                         "sighting number")
    assert _log(home).read_bytes() == before  # bad input: nothing ran, nothing to audit


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return eb.build_package(tmp_path_factory.mktemp("package"))[0].path


@pytest.mark.parametrize("damage", [b"", b"\xff\xfe not utf-8"])
def test_a_package_without_a_readable_tag_manifest_fails_in_one_line(package, tmp_path,
                                                                     damage):
    copy = shutil.copytree(package, tmp_path / "pkg")
    manifest = copy / "tagmanifest-sha256.txt"
    manifest.unlink() if damage == b"" else manifest.write_bytes(damage)
    r = cli(tmp_path / "home", "verify", copy)
    one_line_error(r, 4, "tagmanifest-sha256.txt", "missing" if damage == b"" else "unreadable",
                   prefix=f"package {copy} does NOT verify: ")


# -- 15: words the parser cannot place ---------------------------------------------------------
@pytest.mark.parametrize("query", ["caméra -1", "plaque AB'--", "plaque %"])
def test_a_search_with_words_it_cannot_place_is_refused_not_widened(env, query):
    home = env["home"]
    before = _log(home).read_bytes()
    one_line_error(cli(home, "search", query, "-r", REF), 2, f"not understood: {query} ")
    assert _log(home).read_bytes() == before  # not run, so not audited

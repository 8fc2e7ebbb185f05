"""Fault suite (issue 10): each hole replayed through the CLI on a forged or hostile input,
asserting the exit code, the one-line message and what the catalog and the audit log hold
afterwards. One home is built per module and copied for each test, to stay fast."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from relecture.requisitions import keys
from relecture.requisitions.audit_anchor import read_home
from relecture.settings import Home
from tests.cli_builders import REF, audit_records, cli, indexed_home

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
    from tests.cli_builders import open_args

    assert cli(env["home"], *open_args()).exit_code == 0
    for _ in range(6):
        assert cli(env["home"], "search", "voiture", "-r", REF).exit_code == 0
    return env


@pytest.fixture
def env(template, tmp_path) -> dict:
    home = shutil.copytree(template["home"], tmp_path / "home")
    return {**template, "home": home}


def one_line_error(result, code: int, *words: str) -> str:
    """The single stderr line of a failed command, after checking its exit code and words."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _log(home: Path) -> Path:
    return home / "audit.jsonl"


def _head(home: Path) -> Path:
    return home / "audit.head"


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

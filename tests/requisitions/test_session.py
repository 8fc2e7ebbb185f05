"""The session service: access checks and audit writes without the command layer."""

from __future__ import annotations

from datetime import datetime

import pytest

from relecture.errors import AccessDenied
from relecture.requisitions.requisition import open_requisition
from relecture.requisitions.session import Session
from relecture.search.request import SearchRequest
from tests import evidence_builders as eb
from tests.cli_builders import REF, USER, audit_records, write_site


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RELECTURE_CLIP_WEIGHTS", "")
    home, _clip, sid, _other = eb.indexed_recording(tmp_path)
    write_site(home.root)
    s = Session.open(home, user=USER)
    open_requisition(home, s.site, USER, reference=REF, type="60-1", magistrate="flagrance",
                     officer_matricule="1234567", officer_service="BR Lyon", reason="vol",
                     cameras=["12"], ranges=[(datetime(2023, 1, 30, 12, 55),
                                              datetime(2023, 1, 30, 13, 10))])
    return home, sid


def _last(home) -> dict:
    return audit_records(home.root)[-1]


def test_a_search_without_a_requisition_is_refused_and_audited(env):
    home, _ = env
    with pytest.raises(AccessDenied, match="needs an open requisition"):
        Session.open(home, user=USER).search(SearchRequest("voiture rouge"), 10)
    last = _last(home)
    assert (last["action"], last["result"], last["actor"]) == ("search", "refused", USER)
    assert last["objects"]["query_hmac"]  # what was asked, as a reference


def test_a_search_under_the_requisition_is_audited_with_its_hits(env):
    home, sid = env
    result = Session.open(home, REF, user=USER).search(SearchRequest("rouge"), 10)
    assert sid in [h.sighting_id for h in result.hits]
    last = _last(home)
    assert (last["action"], last["result"], last["result_count"]) == ("search", "done",
                                                                       result.total)
    assert last["objects"]["sightings"] == [h.sighting_id for h in result.hits]
    assert last["legal_basis"]["reference"] == REF


def test_a_view_beyond_the_users_cameras_is_refused_and_audited(env):
    home, sid = env
    with pytest.raises(AccessDenied, match=f"no sighting #{sid} within"):
        Session.open(home, REF, user="municipal").show(sid)
    last = _last(home)
    assert (last["action"], last["result"], last["actor"]) == ("view", "refused", "municipal")
    assert last["objects"]["sightings"] == [sid]


def test_a_refused_export_writes_nothing_but_its_audit_entry(env, tmp_path):
    home, sid = env
    with pytest.raises(AccessDenied):
        Session.open(home, REF, user="municipal").export([sid, 999], tmp_path / "pkg")
    assert not (tmp_path / "pkg").exists()
    last = _last(home)
    assert (last["action"], last["result"]) == ("export", "refused")
    assert last["objects"]["sightings"] == [sid, 999]


def test_holds_need_a_requisition_and_purge_an_operator(env):
    home, sid = env
    with pytest.raises(AccessDenied, match="tied to a requisition"):
        Session.open(home, user=USER).place_holds([sid], [])
    assert (_last(home)["action"], _last(home)["result"]) == ("legal_hold", "refused")
    with pytest.raises(AccessDenied, match="needs role operator"):
        Session.open(home, user="municipal").purge(dry_run=True)
    assert (_last(home)["action"], _last(home)["result"]) == ("purge", "refused")


def test_reading_the_audit_of_a_requisition_beyond_ones_cameras_is_refused(env):
    home, _ = env
    with pytest.raises(AccessDenied, match="may not read the audit"):
        Session.open(home, REF, user="municipal").audit_extract()
    records = Session.open(home, REF, user="auditor").audit_extract()
    assert [r["action"] for r in records] == ["requisition_open"]

"""Requisitions and site policy: lifecycle, validation, storage, defaults."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from relecture.errors import AccessDenied, NotFound, UsageError
from relecture.requisitions import audit, keys
from relecture.requisitions.audit_verify import verify_chain
from relecture.requisitions.requisition import (close_requisition, get_requisition,
                                                list_requisitions, open_requisition)
from relecture.requisitions.site import load_site, parse_site, site_path
from relecture.settings import Home

T0, T1 = datetime(2024, 3, 4, 13, 0), datetime(2024, 3, 4, 15, 0)


def _fields(**over) -> dict:
    fields = dict(reference="PV 2024/00123", type="art. 77-1-1 CPP",
                  magistrate="Mme Martin, procureure", officer_matricule="1234567",
                  officer_service="BR Lyon", reason="vol de véhicule", cameras=["12", "13"],
                  ranges=[(T0, T1)])
    fields.update(over)
    return fields


@pytest.fixture
def h(home) -> Home:
    return Home(home)


@pytest.fixture
def site(h):
    return load_site(h, "test-operator")


def test_fresh_home_gets_a_default_site_for_the_current_user(h):
    site = load_site(h, "test-operator")
    assert site_path(h).exists()
    user = site.user("test-operator")
    assert set(user.roles) == {"operator", "investigator"} and user.sees("any camera")
    assert site.retention_days == 30 and "plate" in site.extractors(requisition_scoped=False)
    assert load_site(h, "someone-else").users == site.users  # an existing file is kept


def test_requisition_lifecycle_is_stored_and_audited(h, site):
    req = open_requisition(h, site, "test-operator", **_fields())
    assert req.type == "77-1-1" and req.type_label == "art. 77-1-1 CPP"
    assert req.status == "open" and req.opened_by == "test-operator"
    assert req.scope.cameras == ("12", "13")
    assert get_requisition(h, "PV 2024/00123") == req
    assert [r.reference for r in list_requisitions(h, "open")] == ["PV 2024/00123"]

    closed = close_requisition(h, site, "test-operator", "PV 2024/00123", "affaire élucidée")
    assert closed.status == "closed" and closed.closed_by == "test-operator"
    assert closed.closed_utc >= closed.opened_utc
    assert get_requisition(h, "PV 2024/00123").status == "closed"
    assert list_requisitions(h, "open") == [] and len(list_requisitions(h)) == 1

    entries = audit.extract(h.audit_log, "PV 2024/00123")
    assert [(e["action"], e["role"]) for e in entries] == [
        ("requisition_open", "investigator"), ("requisition_close", "investigator")]
    assert entries[0]["legal_basis"] == {"reference": "PV 2024/00123", "type": "77-1-1"}
    assert entries[0]["objects"] == {"cameras": ["12", "13"]}
    assert entries[1]["reason"] == "affaire élucidée"
    assert verify_chain(h.audit_log, keys.public_key_path(h)).ok


def test_a_requisition_survives_a_round_trip_through_its_file(h, site):
    req = open_requisition(h, site, "test-operator", **_fields())
    stored = json.loads(next((h.root / "requisitions").glob("*.json")).read_text())
    assert stored["scope"]["ranges"] == [["2024-03-04T13:00:00Z", "2024-03-04T15:00:00Z"]]
    assert get_requisition(h, req.reference) == req


def test_camera_local_times_given_with_a_zone_are_stored_in_utc(h, site):
    paris = ZoneInfo("Europe/Paris")
    req = open_requisition(h, site, "test-operator", **_fields(
        ranges=[(datetime(2024, 3, 4, 14, 0, tzinfo=paris),
                 datetime(2024, 3, 4, 16, 0, tzinfo=paris))]))
    assert (req.scope.ranges[0].start, req.scope.ranges[0].end) == (T0, T1)


def test_a_used_reference_is_refused(h, site):
    open_requisition(h, site, "test-operator", **_fields())
    with pytest.raises(UsageError, match="already exists"):
        open_requisition(h, site, "test-operator", **_fields(reason="autre"))
    assert len(audit.extract(h.audit_log, "PV 2024/00123")) == 1  # the refusal is not logged


@pytest.mark.parametrize("over, message", [
    ({"type": "art. 12 CPP"}, "not one of"),
    ({"type": "99-3", "magistrate": "flagrance"}, "names its authorising magistrate"),
    ({"magistrate": " "}, "magistrate"),
    ({"reference": ""}, "reference is required"),
    ({"reason": ""}, "reason is required"),
    ({"officer_matricule": "12 34"}, "matricule"),
    ({"officer_service": ""}, "service is required"),
    ({"cameras": []}, "cameras"),
    ({"cameras": ["*"]}, "cameras"),
    ({"ranges": []}, "time range"),
    ({"ranges": [(T1, T0)]}, "reversed"),
])
def test_malformed_requisitions_are_refused_clearly(h, site, over, message):
    with pytest.raises(UsageError, match=message):
        open_requisition(h, site, "test-operator", **_fields(**over))
    assert list_requisitions(h) == [] and not h.audit_log.exists()


def test_flagrance_needs_no_magistrate(h, site):
    req = open_requisition(h, site, "test-operator",
                           **_fields(type="60-1", magistrate="Flagrance"))
    assert req.magistrate == "flagrance"


def test_unknown_and_closed_references(h, site):
    with pytest.raises(NotFound):
        get_requisition(h, "PV nope")
    with pytest.raises(NotFound):
        close_requisition(h, site, "test-operator", "PV nope")
    open_requisition(h, site, "test-operator", **_fields())
    close_requisition(h, site, "test-operator", "PV 2024/00123")
    with pytest.raises(UsageError, match="already closed"):
        close_requisition(h, site, "test-operator", "PV 2024/00123")


def test_an_operator_alone_may_not_open_a_requisition(h):
    site = parse_site('[[users]]\nname = "op"\nroles = ["operator"]\ncameras = ["*"]\n')
    with pytest.raises(AccessDenied, match="needs role investigator or magistrate"):
        open_requisition(h, site, "op", **_fields())
    assert list_requisitions(h) == []


@pytest.mark.parametrize("toml, message", [
    ("retention_days = 31\n", "retention_days"),
    ("retention = 10\n", "Extra inputs"),
    ('[[users]]\nname = "a"\nroles = ["admin"]\ncameras = ["*"]\n', "roles"),
    ('[[users]]\nname = "a"\nroles = []\ncameras = ["*"]\n', "roles"),
    ('[standing_index]\nextractors = ["face"]\n', "extractors"),
    ('[[users]]\nname = "a"\nroles = ["auditor"]\ncameras = ["*"]\n' * 2, "listed twice"),
    ("retention_days = \n", "not valid TOML"),
])
def test_bad_site_files_are_refused(toml, message):
    with pytest.raises(UsageError, match=message):
        parse_site(toml)


def test_site_may_keep_plate_reading_for_requisition_jobs_only():
    site = parse_site('[standing_index]\nextractors = ["type", "colour", "embedding"]\n')
    assert "plate" not in site.extractors(requisition_scoped=False)
    assert "plate" in site.extractors(requisition_scoped=True)


def _open_many(root: str, worker: int) -> None:
    home = Home(Path(root))
    site = load_site(home, "test-operator")
    for i in range(4):
        open_requisition(home, site, "test-operator", **_fields(reference=f"PV {worker}-{i}"))


def test_concurrent_opens_lose_nothing(h):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_many, args=(str(h.root), w)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(list_requisitions(h)) == 8
    assert verify_chain(h.audit_log, keys.public_key_path(h)).records == 8

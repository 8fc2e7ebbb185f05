"""Access checks: roles, camera scopes, requisition scopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from relecture.errors import AccessDenied
from relecture.requisitions import access
from relecture.requisitions.requisition import close_requisition, open_requisition
from relecture.requisitions.site import parse_site
from relecture.settings import Home

T0, T1 = datetime(2024, 3, 4, 13, 0), datetime(2024, 3, 4, 15, 0)
SITE = parse_site("""
[[users]]
name = "national"
roles = ["investigator"]
cameras = ["*"]

[[users]]
name = "municipal"
roles = ["investigator"]
cameras = ["1", "2"]

[[users]]
name = "op"
roles = ["operator"]
cameras = ["*"]

[[users]]
name = "audit"
roles = ["auditor"]
cameras = ["*"]
""")


@dataclass(frozen=True)
class FakeHit:
    sighting_id: int
    camera: str
    first_utc: datetime
    last_utc: datetime


@pytest.fixture
def req(home):
    return open_requisition(Home(home), SITE, "national", reference="PV-7", type="77-1-1",
                            magistrate="M. Leroy", officer_matricule="A123",
                            officer_service="SRPJ", reason="vol", cameras=["1", "2", "3"],
                            ranges=[(T0, T1)])


def test_search_without_or_under_a_closed_requisition_is_refused(home, req):
    with pytest.raises(AccessDenied, match="needs an open requisition"):
        access.check_search(SITE, "national", None)
    closed = close_requisition(Home(home), SITE, "national", req.reference)
    with pytest.raises(AccessDenied, match="is closed"):
        access.check_search(SITE, "national", closed)
    with pytest.raises(AccessDenied, match="is closed"):
        access.check_hits(SITE, "national", closed, [1], [FakeHit(1, "1", T0, T0)])


def test_search_defaults_to_the_cameras_the_user_may_see(req):
    grant, scope = access.check_search(SITE, "municipal", req)
    assert grant == access.Grant("municipal", "investigator")
    assert scope.cameras == ("1", "2") and scope.ranges == req.scope.ranges
    _, scope = access.check_search(SITE, "national", req)
    assert scope.cameras == ("1", "2", "3")


def test_cameras_outside_the_user_or_the_requisition_are_refused(req):
    with pytest.raises(AccessDenied, match="may not see camera 3"):
        access.check_search(SITE, "municipal", req, cameras=["1", "3"])
    with pytest.raises(AccessDenied, match="camera 9 is outside requisition PV-7"):
        access.check_search(SITE, "national", req, cameras=["9"])


def test_times_outside_the_requisition_are_refused_and_overlaps_clipped(req):
    day_before = (T0 - timedelta(days=1), T1 - timedelta(days=1))
    with pytest.raises(AccessDenied, match="outside requisition PV-7's time"):
        access.check_search(SITE, "national", req, windows=[day_before])
    _, scope = access.check_search(SITE, "national", req,
                                   windows=[(T0 - timedelta(hours=1), T0 + timedelta(hours=1))])
    assert not scope.allows("1", T0 - timedelta(minutes=30), T0 - timedelta(minutes=20))
    assert scope.allows("1", T0 + timedelta(minutes=5), T0 + timedelta(minutes=6))
    assert not scope.allows("4", T0 + timedelta(minutes=5), T0 + timedelta(minutes=6))


def test_only_investigating_roles_may_search(req):
    with pytest.raises(AccessDenied, match="op \\(operator\\) may not search"):
        access.check_search(SITE, "op", req)
    with pytest.raises(AccessDenied, match="not declared"):
        access.check_search(SITE, "stranger", req)


def test_export_is_refused_as_a_whole_if_any_hit_is_out_of_scope(req):
    inside = FakeHit(1, "1", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    late = FakeHit(2, "1", T1 + timedelta(hours=1), T1 + timedelta(hours=2))
    hidden = FakeHit(3, "3", T0, T0 + timedelta(seconds=5))
    assert access.check_hits(SITE, "national", req, [1, 3], [inside, hidden]).role == \
        "investigator"
    with pytest.raises(AccessDenied, match="no sighting #2 within requisition PV-7"):
        access.check_hits(SITE, "national", req, [1, 2], [inside, late])
    with pytest.raises(AccessDenied, match="no sighting #3 within requisition PV-7"):
        access.check_hits(SITE, "municipal", req, [1, 3], [inside, hidden])


def test_an_unknown_sighting_is_answered_like_one_out_of_scope(req):
    """Otherwise the answer would tell whether a sighting exists beyond the scope."""
    late = FakeHit(2, "1", T1 + timedelta(hours=1), T1 + timedelta(hours=2))
    answers = []
    for ids, hits in (([2], [late]), ([2], [])):
        with pytest.raises(AccessDenied) as refused:
            access.check_hits(SITE, "national", req, ids, hits)
        answers.append(str(refused.value))
    assert answers[0] == answers[1] == ("no sighting #2 within requisition PV-7 and "
                                        "national's cameras")


def test_a_user_may_not_open_a_requisition_beyond_their_cameras(home):
    with pytest.raises(AccessDenied, match="may not see camera 3"):
        open_requisition(Home(home), SITE, "municipal", reference="PV-8", type="60-1",
                         magistrate="flagrance", officer_matricule="B1",
                         officer_service="PM", reason="x", cameras=["3"], ranges=[(T0, T1)])


def test_the_audit_event_carries_the_legal_basis_and_role(req):
    grant = access.authorise(SITE, "national", "export")
    event = grant.event("export", req, objects={"sightings": [4]}, result_count=1)
    assert (event.actor, event.role, event.requisition, event.requisition_type) == (
        "national", "investigator", "PV-7", "77-1-1")
    assert event.reason == "vol"


def test_who_may_read_a_requisition(req):
    assert access.can_read(SITE, "audit", req) and access.can_read(SITE, "national", req)
    assert not access.can_read(SITE, "municipal", req)  # camera 3 is not theirs
    assert not access.can_read(SITE, "op", req)

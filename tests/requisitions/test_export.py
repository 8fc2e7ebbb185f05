"""Evidence export: native master cut, derived viewable copy, stills, evidence.json, BagIt."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from relecture.catalog import Catalog
from relecture.errors import IntegrityError, NotFound, UsageError
from relecture.requisitions import media
from relecture.requisitions.export import export_package
from tests import evidence_builders as eb


@pytest.fixture(scope="module")
def pkg(tmp_path_factory):
    result, key, home, clip, sid, other = eb.build_package(tmp_path_factory.mktemp("export"))
    return {"result": result, "key": key, "home": home, "clip": clip, "sid": sid,
            "other": other, "ev": json.loads((result.path / "data/evidence.json").read_text())}


def _item(pkg, role, name=None):
    return next(i for i in pkg["ev"]["items"]
                if i["role"] == role and (name is None or i["file"].endswith(name)))


def _decode(path):
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(c.streams.video[0])]


def test_master_holds_the_source_packets_byte_for_byte(pkg):
    master = _item(pkg, "master")
    source = media.packet_payloads(pkg["clip"])
    cut = media.packet_payloads(pkg["result"].path / master["file"])
    start = source.index(cut[0])
    assert source[start:start + len(cut)] == cut  # same count, same bytes, same order
    assert 0 < start and start + len(cut) < len(source)  # really a cut from inside the file
    # The cut covers the sighting (2.5-3.5 s) plus the 1 s margin, from a keyframe.
    assert master["start_t"] <= 1.5 and master["end_t"] >= 4.5
    assert master["start_t"] == pytest.approx(1.0)  # keyframes are every second
    assert "no re-encoding" in master["transform"]
    assert master["derived_from"] == pkg["ev"]["sources"][0]["sha256"]
    tb = Fraction(master["source_pts"]["time_base"])
    assert master["source_pts"]["first"] * tb == Fraction(1)


def test_master_times_in_camera_clock_and_utc(pkg):
    master = _item(pkg, "master")
    # Camera clock starts 14:00:00 Paris (UTC+1) and runs 2.5 s ahead of true time.
    assert master["start_camera"] == "2023-01-30T14:00:01.000"
    assert master["start_utc"] == "2023-01-30T12:59:58.500Z"
    src = pkg["ev"]["sources"][0]
    assert (src["camera"], src["timezone"], src["clock_offset_s"]) == ("12", "Europe/Paris", 2.5)


def test_evidence_json_carries_legal_fields_versions_audit_and_queries(pkg):
    import relecture

    ev = pkg["ev"]
    assert ev["legal"]["reference"] == "PV 2023/000123"
    assert ev["legal"]["magistrate"].startswith("Mme A. Martin")
    assert ev["operator"] == "test-operator"
    assert ev["tool"]["version"] == relecture.__version__
    assert {m["key"] for m in ev["models"]} >= {"coco-ssd", "platedet"}
    assert ev["audit"] == {"extract": eb.AUDIT, "chain_head": eb.CHAIN_HEAD}
    assert {i["role"] for i in ev["items"]} == {"master", "derived", "still"}
    assert all(i["queries"] == eb.QUERIES for i in ev["items"])
    master_sha = _item(pkg, "master")["sha256"]
    assert all(i["derived_from"] == master_sha for i in ev["items"] if i["role"] != "master")
    hit = ev["hits"][0]
    assert (hit["plate"], hit["colour"], hit["vehicle_type"]) == (eb.SUBJECT_PLATE, "red", "car")
    manifest = (pkg["result"].path / "manifest-sha256.txt").read_text()
    for i in ev["items"]:
        assert f"{i['sha256']}  {i['file']}" in manifest


def test_derived_copy_is_h264_with_clock_burned_in_and_others_blurred(pkg):
    import av

    root = pkg["result"].path
    derived, master = _item(pkg, "derived"), _item(pkg, "master")
    with av.open(str(root / derived["file"])) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    d_frames, m_frames = _decode(root / derived["file"]), _decode(root / master["file"])
    assert len(d_frames) == len(m_frames)
    i = 20  # t = 3.0 s: 2 s after the master's first picture
    d, m = d_frames[i], m_frames[i]

    def std(img, box):
        x1, y1, x2, y2 = box
        return float(img[y1:y2, x1:x2].std())

    assert std(d, eb.PERSON) < 0.3 * std(m, eb.PERSON)
    assert std(d, eb.PARKED_PLATE) < 0.3 * std(m, eb.PARKED_PLATE)
    x1, _, x2, y2 = eb.subject_box(3.0)
    subject_plate = (x1 + 10, y2 - 11, x2 - 10, y2 - 3)
    assert std(d, subject_plate) > 0.6 * std(m, subject_plate)  # the hit's own plate stays
    # Camera name and time are burned in at the top left.
    assert np.abs(d[:12, :200].astype(int) - m[:12, :200]).mean() > 20
    assert "burned-in camera name and camera time" in derived["transform"]
    assert "persons blurred" in derived["transform"]


def test_still_with_box_and_plain_still(pkg):
    import cv2

    root = pkg["result"].path
    plain = cv2.imread(str(root / _item(pkg, "still", "still.jpg")["file"]))
    boxed = cv2.imread(str(root / _item(pkg, "still", "still_boxed.jpg")["file"]))
    x1, y1, x2, _ = eb.subject_box(3.0)
    edge = boxed[y1 - 1:y1 + 2, x1 + 5:x2 - 5].reshape(-1, 3).mean(axis=0)
    assert edge[1] > 200 and edge[2] > 200 and edge[0] < 80  # yellow (BGR) outline
    assert np.abs(plain.astype(int) - boxed).max() > 100
    assert _item(pkg, "still", "still.jpg")["start_camera"] == "2023-01-30T14:00:03.000"


def test_blur_can_be_turned_off(tmp_path):
    result, *_ = eb.build_package(tmp_path, blur=False)
    derived = next(i for i in result.evidence["items"] if i["role"] == "derived")
    master = next(i for i in result.evidence["items"] if i["role"] == "master")
    d = _decode(result.path / derived["file"])[20]
    m = _decode(result.path / master["file"])[20]
    x1, y1, x2, y2 = eb.PERSON
    assert d[y1:y2, x1:x2].std() > 0.7 * m[y1:y2, x1:x2].std()
    assert "no blurring" in derived["transform"]


def _export(home, ids, out, **kw):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with Catalog(home, read_only=True) as cat:
        return export_package(cat, ids, out, eb.legal(), "op", Ed25519PrivateKey.generate(),
                              [], None, **kw)


def test_refuses_unknown_hits_used_folders_and_altered_sources(tmp_path):
    home, clip, sid, _ = eb.indexed_recording(tmp_path)
    with pytest.raises(NotFound):
        _export(home, [sid + 100], tmp_path / "out")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(UsageError):
        _export(home, [sid], tmp_path / "used")
    with clip.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(IntegrityError):
        _export(home, [sid], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_failed_export_leaves_no_partial_package(tmp_path, monkeypatch):
    home, clip, sid, _ = eb.indexed_recording(tmp_path)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(media, "render_derived", boom)
    with pytest.raises(RuntimeError):
        _export(home, [sid], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_two_hits_of_one_recording_share_one_source(tmp_path):
    from relecture.requisitions.package_verify import verify_package

    home, clip, sid, other = eb.indexed_recording(tmp_path)
    result = _export(home, [sid, other], tmp_path / "out", margin_s=0.5)
    ev = result.evidence
    assert len(ev["sources"]) == 1 and [h["sighting_id"] for h in ev["hits"]] == [sid, other]
    roles = sorted(i["role"] for i in ev["items"])
    assert roles == ["derived"] * 2 + ["master"] * 2 + ["still"] * 4
    assert verify_package(result.path).ok

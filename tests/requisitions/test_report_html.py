"""report.html: self-contained, states the requisition and each hit, opens in a real browser."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests import evidence_builders as eb

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    result, *_ = eb.build_package(tmp_path_factory.mktemp("report"))
    return result


def test_report_states_requisition_hit_hashes_and_notice(package):
    html = (package.path / "data/report.html").read_text(encoding="utf-8")
    ev = package.evidence
    hit = ev["hits"][0]
    for text in (eb.SUBJECT_PLATE, "PV 2023/000123", "OPJ B. Durand", "Mme A. Martin",
                 hit["start_camera"], hit["start_utc"], "Europe/Paris", eb.QUERIES[0],
                 "Investigative lead — not an identification. "
                 "Verified by: ____ (name, rank, date)"):
        assert text in html, text
    for item in ev["items"]:
        assert item["sha256"] in html
    assert html.count("data:image/jpeg;base64,") == 2  # both stills, embedded
    assert "src=\"http" not in html and "href=" not in html  # nothing to fetch
    assert "@media print" in html


def _chromium(args, tmp_path, timeout=60):
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_report_renders_in_a_headless_browser(package, tmp_path):
    import cv2

    url = (package.path / "data/report.html").resolve().as_uri()
    dom = _chromium(["--dump-dom", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    hit = package.evidence["hits"][0]
    for text in (eb.SUBJECT_PLATE, hit["start_camera"], hit["end_utc"], "not an identification"):
        assert text in dom.stdout, text
    shot = tmp_path / "out.png"
    run = _chromium([f"--screenshot={shot}", "--window-size=1200,1600", url], tmp_path)
    assert shot.is_file(), run.stderr[-2000:]
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1600, 1200)
    assert img.std() > 20  # text, tables and stills drawn, not a blank page
    dark = (img.max(axis=2) < 100).mean()
    assert 0.005 < dark < 0.5

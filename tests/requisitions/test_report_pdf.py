"""report.pdf: the magistrate's report on A4 pages, checked by rendering its pages to images."""

from __future__ import annotations

import numpy as np
import pytest

from relecture.errors import RelectureError
from relecture.requisitions.report_pdf import render_report_pdf
from tests import evidence_builders as eb

pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 renders the PDF's pages (test extra)")

A4_POINTS = (595, 842)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    result, *_ = eb.build_package(tmp_path_factory.mktemp("report-pdf"))
    return result


def _pages(pdf_bytes: bytes):
    doc = pdfium.PdfDocument(pdf_bytes)
    return [doc[i] for i in range(len(doc))]


def _text(pages) -> str:
    return "\n".join(p.get_textpage().get_text_range() for p in pages)


def test_pdf_report_pages_are_a4_and_state_the_requisition_and_hit(package):
    pages = _pages((package.path / "data/report.pdf").read_bytes())
    assert pages
    for page in pages:
        w, h = page.get_size()
        assert abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2
    text = " ".join(_text(pages).split())
    hit = package.evidence["hits"][0]
    for expected in (eb.SUBJECT_PLATE, "PV 2023/000123", "OPJ B. Durand", "Mme A. Martin",
                     hit["start_camera"], "Europe/Paris", "not an identification"):
        assert expected in text, expected


def test_pdf_report_pages_show_the_stills_inside_the_page_and_no_blank_page(package):
    """The hit's stills are drawn (colour: text and rules are grey or black), no page is left
    blank by a block too tall to fit, and nothing runs past the page's right margin."""
    pages = _pages((package.path / "data/report.pdf").read_bytes())
    colourful = 0.0
    for page in pages:
        rgb = np.asarray(page.render(scale=1.5).to_pil().convert("RGB")).astype(int)
        assert rgb.std() > 15, "a (nearly) blank page"
        margin = rgb[:, -int(rgb.shape[1] * 0.03):]  # the right 3 %: inside the 14 mm margin
        assert (margin.min(axis=2) < 200).mean() < 0.001, "something runs past the margin"
        colourful = max(colourful, ((rgb.max(axis=2) - rgb.min(axis=2)) > 40).mean())
    assert colourful > 0.01


def test_pdf_report_fetches_nothing_from_outside():
    with pytest.raises(RelectureError, match="outside resource"):
        render_report_pdf('<html><body><img src="file:///etc/hostname"></body></html>')

"""The magistrate's report as PDF: report.html laid out on A4 pages by WeasyPrint.

The PDF is made from the very HTML that report.html holds, so the two cannot disagree; the
HTML's print CSS (A4, one hit per block, never split across pages) sets the layout.
"""

from __future__ import annotations

from relecture.errors import RelectureError

PANGO_HINT = "apt-get install -y libpango-1.0-0 libpangoft2-1.0-0"


def render_report_pdf(html: str) -> bytes:
    """PDF bytes of the report whose HTML text is `html` (self-contained: nothing fetched).

    Raises RelectureError when WeasyPrint cannot load its system libraries (Pango)."""
    try:
        import weasyprint
    except OSError as e:  # WeasyPrint loads Pango with cffi at import time
        raise RelectureError(f"the PDF report needs Pango, which is missing ({e}); "
                             f"install it with: {PANGO_HINT}") from e
    # Nothing outside the HTML is read: its stills are data URIs and its CSS is inline.
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    try:
        return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    except weasyprint.urls.FatalURLFetchingError as e:  # a BaseException: keep it an error
        raise RelectureError(f"the report names an outside resource: {e}") from e

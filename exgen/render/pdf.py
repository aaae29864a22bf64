"""HTML to PDF through WeasyPrint, with fixed metadata so that builds are reproducible."""
from __future__ import annotations

import datetime
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from weasyprint import HTML

from exgen import __version__

FIXED_DATE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc).isoformat()
# fontTools stamps each font it cuts with the time unless SOURCE_DATE_EPOCH is set
# (WeasyPrint cuts with fontTools where HarfBuzz-subset is missing): the same date.
os.environ.setdefault("SOURCE_DATE_EPOCH", "946684800")


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=None).render()
    meta = document.metadata
    meta.created = FIXED_DATE
    meta.modified = FIXED_DATE
    meta.generator = f"exgen {__version__}"
    return document.write_pdf(uncompressed_pdf=False)


def html_to_pdfs(htmls: list[str]) -> list[bytes]:
    """Several documents at once, one per core (the sheet beside the key)."""
    cores = os.cpu_count() or 1
    if len(htmls) < 2 or cores < 2:
        return [html_to_pdf(h) for h in htmls]
    with ProcessPoolExecutor(min(cores, len(htmls)) - 1, mp_context=get_context("fork")) as pool:
        others = pool.map(html_to_pdf, htmls[1:])
        first = html_to_pdf(htmls[0])  # the parent works too
        return [first, *others]

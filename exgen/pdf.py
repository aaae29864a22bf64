"""HTML to PDF through WeasyPrint, with fixed metadata so that builds are reproducible."""
from __future__ import annotations

import datetime

from weasyprint import HTML

from . import __version__

FIXED_DATE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc).isoformat()


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=None).render()
    meta = document.metadata
    meta.created = FIXED_DATE
    meta.modified = FIXED_DATE
    meta.generator = f"exgen {__version__}"
    return document.write_pdf(uncompressed_pdf=False)

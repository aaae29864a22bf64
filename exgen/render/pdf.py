"""HTML to PDF through WeasyPrint, with fixed metadata so that builds are reproducible."""

from __future__ import annotations

import datetime
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from exgen import __version__
from exgen.errors import TemplateProblem
from exgen.typeset.local_files import FileRefused, read_inside
from exgen.typeset.mathml import without_twins

PACKAGE = Path(__file__).resolve().parents[1]  # exgen's own data: fonts, templates
MAX_FILE_BYTES = 20_000_000
PDF_VARIANT = "pdf/ua-1"  # accessible PDF: tagged, language, title (WeasyPrint's own)

FIXED_DATE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc).isoformat()
# fontTools stamps each font it cuts with the time unless SOURCE_DATE_EPOCH is set
# (WeasyPrint cuts with fontTools where HarfBuzz-subset is missing): the same date.
os.environ.setdefault("SOURCE_DATE_EPOCH", "946684800")


class RefusedURL(FatalURLFetchingError):
    """A URL the fetcher will not serve (a BaseException for WeasyPrint: rendering stops)."""


class LocalOnly(URLFetcher):
    """Serves data: URIs, exgen's own files and files inside ``folders``; refuses every
    other URL before anything is opened, so a document never reaches the network."""

    def __init__(self, folders: tuple[str, ...] = ()):
        super().__init__(allowed_protocols=("data",), allow_redirects=False)
        self.roots = (PACKAGE, *(Path(f).resolve() for f in folders))
        self.refused: list[str] = []  # WeasyPrint swallows some refusals (inside an SVG)

    def fetch(self, url: str, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)  # decoded in memory by urllib's DataHandler
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path))
                for root in self.roots:
                    if path.is_relative_to(root):
                        try:
                            body = read_inside(root, path.relative_to(root), MAX_FILE_BYTES)
                        except (FileNotFoundError, FileRefused):
                            break
                        return URLFetcherResponse(url, body)
        self.refused.append(url)
        raise RefusedURL(url)


def html_to_pdf(html: str, folders: tuple[str, ...] = ()) -> bytes:
    """The PDF of ``html``; it may use data: URIs, exgen's own files and files in ``folders``."""
    fetcher = LocalOnly(folders)
    try:
        document = HTML(string=without_twins(html), base_url=None, url_fetcher=fetcher).render()
        meta = document.metadata
        meta.created = FIXED_DATE
        meta.modified = FIXED_DATE
        meta.generator = f"exgen {__version__}"
        # PDF/UA-1: tagged (a structure tree, figures with their alt text), /Lang from
        # <html lang>, /Title from <title> shown as the window title, XMP metadata
        # carrying the fixed dates above; bookmarks come from style.css.
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT, uncompressed_pdf=False)
    except RefusedURL:
        pass  # named below: the fetcher keeps every URL it refused
    if fetcher.refused:
        raise TemplateProblem(
            f"the document refers to {_short(fetcher.refused[0])}, which exgen "
            f"does not fetch: a sheet may use only data: URIs and files "
            f"inside its folder"
        )
    return pdf


def html_to_pdfs(htmls: list[str]) -> list[bytes]:
    """Several documents at once, one per core (the sheet beside the key)."""
    cores = os.cpu_count() or 1
    if len(htmls) < 2 or cores < 2:
        return [html_to_pdf(h) for h in htmls]
    with ProcessPoolExecutor(min(cores, len(htmls)) - 1, mp_context=get_context("fork")) as pool:
        others = pool.map(html_to_pdf, htmls[1:])
        first = html_to_pdf(htmls[0])  # the parent works too
        return [first, *others]


def _short(url: str) -> str:
    return repr(url if len(url) <= 200 else url[:200] + "…")

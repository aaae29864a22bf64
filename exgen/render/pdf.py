"""HTML to PDF through WeasyPrint, with fixed metadata so that builds are reproducible."""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import re
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.text.fonts import FontConfiguration
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
        document = lay_out(html, folders, fetcher)
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
    _refuse(fetcher.refused)
    return pdf


def lay_out(html: str, folders: tuple[str, ...], fetcher: LocalOnly):
    """``html`` laid out as it prints (the layout checks read the same pages), without
    the MathML twins that only screen readers read. A document whose only style sheet is its one <style> element (every
    document exgen writes) gets that sheet parsed once per process, with its fonts: the
    sheets and keys of a class share one style element, and its embedded fonts are most
    of each document's bytes (tokenized, decoded and loaded again for every document).
    WeasyPrint applies a sheet given this way with user origin: the same cascade, as no
    author sheet is left beside it."""
    html = without_twins(html)
    found = _STYLE.findall(html)
    if len(found) != 1 or html.count("<style") != 1 or "<link" in html:
        return HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    style = _parsed_style(found[0], folders)
    return HTML(string=_STYLE.sub("", html, 1), base_url=None, url_fetcher=fetcher).render(
        stylesheets=[style.sheet], font_config=style.fonts, counter_style=style.counters
    )


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_STYLES: OrderedDict = OrderedDict()  # style text, folders -> _Style; a few per process


class _Style:
    """A parsed style sheet with the fonts and counter styles its rules declared."""

    def __init__(self, text: str, folders: tuple[str, ...]):
        fetcher = LocalOnly(folders)
        self.fonts = FontConfiguration()
        self.counters = CounterStyle()
        with contextlib.suppress(RefusedURL):  # named below, as for the document
            self.sheet = CSS(
                string=text,
                base_url=None,
                url_fetcher=fetcher,
                font_config=self.fonts,
                counter_style=self.counters,
            )
        _refuse(fetcher.refused)


def _parsed_style(text: str, folders: tuple[str, ...]) -> _Style:
    key = (text, folders)
    if key in _STYLES:
        _STYLES.move_to_end(key)
    else:
        _STYLES[key] = _Style(text, folders)
        while len(_STYLES) > 4:  # a class's names can need other font cuts: keep the last few
            _STYLES.popitem(last=False)
    return _STYLES[key]


def _forget_inherited_styles() -> None:
    """In a forked worker: the parent's fonts sit in the parent's temporary folder, which
    WeasyPrint deletes when their FontConfiguration goes; the worker must not delete it."""
    for style in _STYLES.values():
        style.fonts._folder = None
    _STYLES.clear()


os.register_at_fork(after_in_child=_forget_inherited_styles)
# freed while Python still runs: left to the interpreter's teardown, Pango's font map
# outlives the libraries it needs and the process crashes on its way out
atexit.register(_STYLES.clear)


def _refuse(refused: list[str]) -> None:
    if refused:
        raise TemplateProblem(
            f"the document refers to {_short(refused[0])}, which exgen "
            f"does not fetch: a sheet may use only data: URIs and files "
            f"inside its folder"
        )


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

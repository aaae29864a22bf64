"""The style sheet parsed once per process (render/pdf.py) gives the PDF WeasyPrint gives
when it reads the document's own <style> element: the same bytes, whatever else the
process rendered before, and in a forked worker."""

import pytest

from exgen.errors import TemplateProblem
from exgen.render import pdf
from exgen.render.documents import DEFAULT_TEMPLATES
from exgen.render.typeface import font_css
from exgen.typeset.formula import matrix, row
from exgen.typeset.mathhtml import math_html

pytestmark = pytest.mark.pdf

STYLE = (DEFAULT_TEMPLATES / "style.css").read_text()


def document(name: str) -> str:
    """A small key-like page in exgen's fonts and style: a header, a matrix, a name."""
    y = math_html(row("y", "=", matrix([["1.25", "−0.5"], ["0.75", "2"]])))
    body = (
        f'<body class="key"><header class="title"><h1>Sheet</h1>'
        f'<div class="student">{name}</div></header><main><div class="eq">'
        f"{y}</div>"
        f"<pre class='code'>print(y)</pre></main></body>"
    )
    return (
        f"<!DOCTYPE html><html><head><style>{font_css(body)}\n{STYLE}</style></head>{body}</html>"
    )


def weasyprints_own(html: str) -> bytes:
    """The PDF through WeasyPrint's own reading of the style element: a style element with
    a media attribute is not the one exgen writes, so html_to_pdf leaves it to WeasyPrint."""
    return pdf.html_to_pdf(html.replace("<style>", '<style media="all">', 1))


def test_a_reused_style_sheet_gives_the_bytes_of_a_fresh_one(monkeypatch):
    monkeypatch.setattr(pdf, "_STYLES", type(pdf._STYLES)())
    html = document("Ada Lovelace")
    fresh = pdf.html_to_pdf(html)  # parsed here
    assert len(pdf._STYLES) == 1
    assert pdf.html_to_pdf(html) == fresh  # reused
    assert weasyprints_own(html) == fresh


def test_documents_with_other_font_cuts_do_not_mix(monkeypatch):
    # a Thai name adds a face and changes the cut; each document keeps its own fonts
    monkeypatch.setattr(pdf, "_STYLES", type(pdf._STYLES)())
    latin, thai = document("Ada Lovelace"), document("สมชาย ใจดี")
    alone = {h: weasyprints_own(h) for h in (latin, thai)}
    for html in (thai, latin, thai, latin):
        assert pdf.html_to_pdf(html) == alone[html]
    assert len(pdf._STYLES) == 2
    assert alone[latin] != alone[thai]


def test_a_forked_worker_renders_the_same_and_leaves_the_parents_fonts(monkeypatch):
    monkeypatch.setattr(pdf, "_STYLES", type(pdf._STYLES)())
    html = document("Ada Lovelace")
    first = pdf.html_to_pdf(html)  # the parent holds the parsed style (and its font files)
    folder = next(iter(pdf._STYLES.values())).fonts._folder
    # Thai names: each its own cut of the Thai face, so the worker parses more styles
    # than it keeps and lets go of the one it inherited
    others = [document(name) for name in ("สมชาย", "วิไล", "ประยุทธ", "กนกพร", "ธนากร")]
    monkeypatch.setattr(pdf.os, "cpu_count", lambda: 2)
    pdfs = pdf.html_to_pdfs([html, *others, html])  # all but the first in a worker
    assert pdfs[0] == pdfs[-1] == first
    assert folder.exists()  # the worker did not delete the parent's fonts
    assert pdf.html_to_pdf(html) == first


@pytest.mark.parametrize("twice", [1, 2])
def test_a_style_sheet_that_refers_elsewhere_is_refused_every_time(twice):
    html = (
        "<style>@font-face { font-family: X; src: url(http://127.0.0.1:9/f.woff2) }"
        "p { font-family: X }</style><p>x</p>"
    )
    for _ in range(twice):  # a refused sheet is not kept for the next document
        with pytest.raises(TemplateProblem) as caught:
            pdf.html_to_pdf(html)
        assert str(caught.value) == (
            "the document refers to 'http://127.0.0.1:9/f.woff2', which exgen "
            "does not fetch: a sheet may use only data: URIs and files "
            "inside its folder"
        )

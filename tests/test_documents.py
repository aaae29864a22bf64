"""The documents: golden sheet.html, key.html and key.json for every shipped sheet,
self-contained HTML, and real PDF builds checked by page count and extracted text.

Regenerate the golden files after an intended change with:
    EXGEN_REGENERATE=1 python3 -m pytest tests/test_documents.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from exgen.asks import pytorch
from exgen.cli import main

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("EXGEN_REGENERATE") == "1"
SHIPPED = sorted(p.stem for p in (ROOT / "exercises").glob("*.yaml"))


def build(tmp: Path, name: str, *flags) -> Path:
    (tmp / "exercises").mkdir(exist_ok=True)
    shutil.copy(ROOT / "exercises" / f"{name}.yaml", tmp / "exercises")
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = CliRunner().invoke(main, ["build", name, *flags])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return tmp / "out" / name


@pytest.fixture(scope="module")
def sheet9_pdf(tmp_path_factory):
    return build(tmp_path_factory.mktemp("pdf"), "sheet9")


@pytest.fixture(scope="module")
def html_build(tmp_path_factory):
    """Each shipped sheet built once, without PDFs, as on a machine without PyTorch (a key
    that ran the PyTorch code names the version and the rounding error of that machine)."""
    builds: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in builds:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(pytorch, "torch_available", lambda: False)
                builds[name] = build(tmp_path_factory.mktemp("html"), name, "--no-pdf")
        return builds[name]

    return get


def without_fonts(html: str) -> str:
    """The document without its embedded fonts and without the print style sheet, which is
    exgen/render/templates/style.css word for word (reviewed there, not ten times over)."""
    css = (ROOT / "exgen" / "render" / "templates" / "style.css").read_text()
    assert css in html, "the style sheet is embedded whole"
    html = html.replace(css, "/* templates/style.css */")
    return re.sub(
        r"base64,[A-Za-z0-9+/=]+\) format\(\"woff2\"\)", 'base64,…) format("woff2")', html
    )


@pytest.mark.parametrize("name", ["sheet.html", "key.html", "key.json"])
@pytest.mark.parametrize("sheet", SHIPPED)
def test_golden(html_build, sheet, name):
    text = (html_build(sheet) / name).read_text()
    if name.endswith(".html"):
        text = without_fonts(text)
    golden = GOLDEN / sheet / name
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden {golden}; see the module docstring"
    want = golden.read_text()
    if name.endswith(".json"):  # full-precision floats may differ in the last bit by platform
        text, want = (
            json.dumps(json.loads(t, parse_float=_twelve_digits), indent=1) for t in (text, want)
        )
    assert text == want, f"{name} differs from {golden}; see the module docstring"


def _twelve_digits(text: str) -> float:
    """A float of key.json's full-precision `value`s to 12 significant digits: NumPy's
    exp, tanh and sums may differ in the last bit between versions and machines; every
    printed (`shown`) string is still compared exactly."""
    return float(f"{float(text):.12g}")


@pytest.mark.parametrize("name", ["sheet.html", "key.html"])
@pytest.mark.parametrize("sheet", SHIPPED)
def test_html_is_self_contained(html_build, sheet, name):
    html = (html_build(sheet) / name).read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", html)
    assert not re.search(r"url\((?!data:)", html)
    assert "@font-face" in html


def pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(str(path))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def question3_answers(out: Path) -> set[str]:
    key = json.loads((out / "key.json").read_text())["exercises"]["q3"]
    shown = set()
    for name, entry in key["values"].items():
        if name not in ("x", "yhat", "W1", "W2", "W3"):
            shown |= set(_flat(entry["shown"]))
    for name in ("W1", "W2", "W3", "u1", "u2", "u3", "z1", "z2", "y"):
        shown |= set(_flat(key["grads"][name]["shown"]))
    return {s.replace("-", "−") for s in shown}


def _flat(x):
    if isinstance(x, list):
        for item in x:
            yield from _flat(item)
    else:
        yield x


@pytest.mark.pdf
def test_key_pdf_has_every_value_of_question_3(sheet9_pdf):
    pages, text = pdf_text(sheet9_pdf / "key.pdf")
    assert 4 <= pages <= 10
    tokens = set(re.findall(r"−?\d+\.\d+", text))
    answers = question3_answers(sheet9_pdf)
    assert "48.24" in answers
    assert answers <= tokens, sorted(answers - tokens)
    assert "Solution key" in text and "page 1 of" in text


@pytest.mark.pdf
def test_sheet_pdf_has_no_answers(sheet9_pdf):
    pages, text = pdf_text(sheet9_pdf / "sheet.pdf")
    assert 1 <= pages <= 4
    tokens = set(re.findall(r"−?\d+\.\d+", text))
    assert not (question3_answers(sheet9_pdf) & tokens)
    assert "Question 2" in text and "Deep Neural Networks" in text
    assert "Solution key" not in text


@pytest.mark.pdf
def test_pdfs_are_reproducible(sheet9_pdf, tmp_path):
    again = build(tmp_path, "sheet9")
    for name in ("sheet.pdf", "key.pdf", "key.html", "sheet.html", "key.json"):
        assert (again / name).read_bytes() == (sheet9_pdf / name).read_bytes(), name

"""Accessible HTML: formulas a screen reader reads as structure (typeset/mathml.py), and
every shipped sheet and key checked with axe-core in headless Chromium, at desktop and
phone width (skipped where Chromium or the Python packages for it are not installed)."""

from __future__ import annotations

import io
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from exgen.asks import pytorch
from exgen.cli import main
from exgen.typeset.formula import Frac, Num, Op, Row, Script, Sym, Text, matrix
from exgen.typeset.mathhtml import math_html, step_html, to_html
from exgen.typeset.mathml import to_mathml, without_twins
from exgen.typeset.steps import Step
from exgen.typeset.texmath import parse_tex

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
SHIPPED = sorted(p.stem for p in (ROOT / "exercises").glob("*.yaml"))
TWIN = re.compile(r"<math\b.*?</math>", re.S)


def parsed(mathml: str) -> ET.Element:
    """The MathML as XML: raises if it is not well-formed."""
    return ET.fromstring(mathml)


def tags(element: ET.Element) -> list[str]:
    return [e.tag for e in element.iter()]


# --- the MathML twins ---------------------------------------------------------------


def test_a_matrix_has_a_row_per_row_and_a_cell_per_entry():
    math = parsed(to_mathml(matrix([["0.5", "−0.25"], ["1", "2"], ["3", "4"]])))
    rows = math.findall(".//mtable/mtr")
    assert len(rows) == 3
    assert [[td.findtext("mn") for td in r.findall("mtd")] for r in rows] == [
        ["0.5", "−0.25"],
        ["1", "2"],
        ["3", "4"],
    ]
    assert [mo.text for mo in math.iter("mo")] == ["[", "]"]


def test_a_fraction_is_mfrac_with_numerator_then_denominator():
    math = parsed(to_mathml(Frac(Sym("a"), Row((Num("2"), Op("+"), Sym("b"))))))
    (frac,) = math.iter("mfrac")
    numerator, denominator = list(frac)
    assert tags(numerator) == ["mrow", "mi"] and numerator.findtext("mi") == "a"
    assert [e.text for e in denominator.iter() if e.text] == ["2", "+", "b"]


@pytest.mark.parametrize(
    "formula",
    [Sym("W", sub="2", sup="T", bold=True), Script(Sym("W", bold=True), sup=Text("T"))],
    ids=["symbol", "script"],
)
def test_a_transpose_is_a_superscript_top(formula):
    math = parsed(to_mathml(formula))
    script = next(e for e in math.iter() if e.tag in ("msup", "msubsup"))
    assert script[-1].tag == "mo" and script[-1].text == "⊤"
    assert "".join(script[0].itertext()) == "W"


def test_prompt_tex_keeps_its_structure():
    math = parsed(to_mathml(parse_tex(r"\frac{\partial L}{\partial W_1} = \delta x^\top")))
    assert len(list(math.iter("mfrac"))) == 1
    assert any(e.text == "⊤" for e in math.iter("mo"))
    grid = parsed(to_mathml(parse_tex(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}")))
    assert len(grid.findall(".//mtr")) == 2 and len(grid.findall(".//mtd")) == 4


def test_a_bracket_carries_its_script_whole():
    """TeX reads ``[0, 1]^\\top`` as "[0, 1" and "]^⊤"; read aloud, the whole bracket is
    transposed."""
    math = parsed(to_mathml(parse_tex(r"\hat{y} = [0, 1]^\top + (a)^2")))
    transposed, squared = list(math.iter("msup"))
    assert [e.text for e in transposed[0].iter() if e.text] == ["[", "0", ",", "1", "]"]
    assert [e.text for e in squared[0].iter() if e.text] == ["(", "a", ")"]


def test_a_step_is_one_equation_for_screen_readers_and_hidden_visually():
    step = Step(
        lhs=Sym("z", bold=True),
        parts=[Row((Sym("W", bold=True), matrix([["1"], ["2"]]))), matrix([["3"], ["4"]])],
        note=Row((Text("e.g."), Sym("z", sub="1"), Op("="), Num("3"))),
    )
    html = str(step_html(step))
    equation, note = TWIN.findall(html)
    assert [e.text for e in parsed(equation) if e.tag == "mo"] == ["=", "="]
    assert len(parsed(equation).findall(".//mtr")) == 4
    assert parsed(note).findtext("mtext") == "e.g."
    assert '<div class="eq" aria-hidden="true">' in html
    assert '<div class="note" aria-hidden="true">' in html
    assert str(to_html(step.lhs)) in html  # the visual is as it was


def test_a_formula_in_text_reads_once():
    html = str(math_html(Sym("x", sub="1")))
    assert html == (
        '<math class="sr-only"><msub><mi>x</mi><mrow><mn>1</mn></mrow></msub></math>'
        '<span aria-hidden="true"><span class="mi">x</span><sub>1</sub></span>'
    )


def test_text_in_formulas_is_escaped():
    math = parsed(to_mathml(Row((Sym("a"), Op("<"), Text("b & c")))))
    assert [e.text for e in math.iter() if e.text] == ["a", "<", "b & c"]


@pytest.mark.parametrize("sheet", SHIPPED)
def test_every_twin_of_the_shipped_documents_is_well_formed(sheet):
    for name in ("sheet.html", "key.html"):
        html = (GOLDEN / sheet / name).read_text()
        twins = TWIN.findall(html)
        assert twins, f"{sheet}/{name} has no MathML"
        for twin in twins:
            assert parsed(twin).tag == "math"
        # every visual formula is hidden from screen readers, which read its twin
        assert html.count('class="sr-only"') == len(twins)


def test_print_leaves_the_twins_out():
    html = (GOLDEN / "sheet9" / "key.html").read_text()
    printed = without_twins(html)
    assert "<math" not in printed and "</math>" not in printed
    assert TWIN.sub("", html) == printed


@pytest.mark.pdf
def test_pdf_sets_each_formula_once():
    from pypdf import PdfReader

    from exgen.render.pdf import html_to_pdf

    formula = Row((Sym("q"), Op("="), Num("4321")))
    pdf = html_to_pdf(f"<p>{math_html(formula)}</p>")  # no style sheet: stripped, not hidden
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert text.count("4321") == 1


# --- axe-core in Chromium ------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (1200, 390)
PHONE = 390


def build(tmp: Path, name: str) -> Path:
    (tmp / "exercises").mkdir()
    shutil.copy(ROOT / "exercises" / f"{name}.yaml", tmp / "exercises")
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = CliRunner().invoke(main, ["build", name, "--no-pdf"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return tmp / "out" / name


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each shipped sheet built once, HTML only (as on a machine without PyTorch)."""
    folders: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in folders:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(pytorch, "torch_available", lambda: False)
                folders[name] = build(tmp_path_factory.mktemp("a11y"), name)
        return folders[name]

    return get


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium, the system's (never a downloaded one), with a fresh profile."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        yield context
        context.close()


def opened(browser, path: Path, width: int):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    return page


DOCUMENTS = [(s, d) for s in SHIPPED for d in ("sheet.html", "key.html")]


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("sheet, document", DOCUMENTS)
def test_axe_finds_no_violations(built, browser, sheet, document, width):
    axe_module = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
    )
    page = opened(browser, built(sheet) / document, width)
    try:
        violations = axe_module.Axe().run(page).response["violations"]
    finally:
        page.close()
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(' '.join(n['target']) for n in v['nodes'][:3])}"
        for v in violations
    ]
    assert found == []


@pytest.mark.slow
@pytest.mark.parametrize("sheet, document", DOCUMENTS)
def test_no_sideways_scroll_at_phone_width(built, browser, sheet, document):
    page = opened(browser, built(sheet) / document, PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.close()
    assert width <= PHONE


@pytest.mark.slow
def test_chromium_exposes_a_matrix_step_as_math_with_rows(built, browser):
    page = opened(browser, built("sheet9") / "key.html", 1200)
    try:
        cdp = page.context.new_cdp_session(page)
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        step = cdp.send("DOM.querySelector", {"nodeId": root, "selector": ".step:has(.mat)"})
        visual_rows = page.locator(".step:has(.mat)").first.locator(".eq tr").count()

        def exposed(role: str) -> list:
            query = {"nodeId": step["nodeId"], "role": role}
            return [
                n for n in cdp.send("Accessibility.queryAXTree", query)["nodes"] if not n["ignored"]
            ]

        twins = page.locator(".step:has(.mat)").first.locator("math").count()  # equation, e.g.
        assert len(exposed("MathMLMath")) == twins >= 1
        assert len(exposed("MathMLTable")) >= 1
        assert len(exposed("MathMLTableRow")) == visual_rows > 1
        eq = cdp.send("DOM.querySelector", {"nodeId": step["nodeId"], "selector": ".eq"})
        (node, *_) = cdp.send("Accessibility.getPartialAXTree", {"nodeId": eq["nodeId"]})["nodes"]
        assert node["ignored"]  # the visual numbers are not read a second time
    finally:
        page.close()

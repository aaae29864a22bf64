"""The grading reports: each student's feedback page (HTML, PDF) and the class summary
with its matplotlib plots, from synthetic grades that cover every verdict."""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from html import unescape
from pathlib import Path

import pytest
from test_accessibility import browser, opened  # noqa: F401  (a fixture: headless Chromium)

from exgen.grading import reports
from exgen.grading.model import VERDICTS, AnswerGrade, ExerciseGrade, StudentGrade
from exgen.grading.reports import feedback_html, report_files, summary_html
from exgen.grading.summary import class_stats, total_bins
from exgen.grading.wording import VERDICT_WORDS, quantity

ONE = Fraction(1)
COLUMNS = ("net L", "net dL/dW1[1,2]", "net dL/db1[1]", "net dL/dW2[1,1]")


def answer(column: str, verdict: str, given: str | None = "0.25", **extra) -> AnswerGrade:
    earned = {"right": ONE, "carried": ONE, "close": Fraction(1, 2)}.get(verdict, Fraction(0))
    return AnswerGrade(
        column=column,
        given=None if verdict == "missing" else given,
        expected="0.25",
        verdict=verdict,  # type: ignore[arg-type]
        points=earned,
        max_points=ONE,
        **extra,
    )


def student(ident: str, verdicts: tuple[str, ...], update: str = "right") -> StudentGrade:
    """A student with the four answers of exercise "net" and one of exercise "opt"."""
    lines = []
    for column, verdict in zip(COLUMNS, verdicts):
        extra = {}
        if verdict == "carried":
            extra = {"follows_from": ("net L", "net dL/db1[1]"), "carried_expected": "−0.731"}
        elif verdict == "trivial":
            extra = {"follows_from": ("net dL/dW1[1,2]",), "note": "Your z₁ is all zeros."}
        lines.append(
            answer(column, verdict, given="−0.731" if verdict == "carried" else "0.26", **extra)
        )
    net = ExerciseGrade("net", "Question 1: a two-layer network", tuple(lines))
    opt = ExerciseGrade("opt", "Question 2: one SGD step", (answer("opt W1[1] new", update),))
    return StudentGrade(ident, f"Student {ident}", f"V-{ident}", (net, opt))


# four students: 3 of 4 right on "net L", every verdict somewhere
CLASS = [
    student("s01", ("right", "right", "right", "right")),
    student("s02", ("right", "carried", "close", "wrong")),
    student("s03", ("right", "missing", "trivial", "carried"), update="missing"),
    student("s04", ("wrong", "wrong", "right", "carried"), update="close"),
]


def test_the_synthetic_class_covers_every_verdict():
    found = {a.verdict for s in CLASS for e in s.exercises for a in e.answers}
    assert found == set(VERDICTS)


def test_every_verdict_has_its_words():
    assert set(VERDICT_WORDS) == set(VERDICTS)
    assert len({w.label for w in VERDICT_WORDS.values()}) == len(VERDICTS)


SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def text(html: str) -> str:
    """The page's visible text, one space between words."""
    html = re.sub(r"<(style|svg|math)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<sub>(\d+)</sub>", lambda m: m[1].translate(SUBSCRIPT), html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- the words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, exercise, shown",
    [
        ("net dL/dW1[1,2]", "net", "∂L/∂W₁[1,2]"),
        ("net L", "net", "L"),
        ("opt W1[1] new", "opt", "W₁[1] new"),
        ("h H lambda2", "h", "H λ₂"),
        ("h H normalized kappa", "h", "H normalized κ"),
    ],
)
def test_a_column_reads_as_its_quantity(column, exercise, shown):
    assert quantity(column, exercise) == shown


# --- the feedback page ----------------------------------------------------------------


def test_feedback_shows_each_answer_with_its_verdict_in_words():
    page = text(feedback_html("Sheet 9", CLASS[2]))
    assert "Student s03" in page and "variant V-s03" in page
    for verdict in ("right", "missing", "trivial", "carried"):
        assert VERDICT_WORDS[verdict].label in page  # type: ignore[index]
        assert VERDICT_WORDS[verdict].sentence in page  # type: ignore[index]
    # the verdicts this student did not get are not explained
    assert VERDICT_WORDS["close"].sentence not in page
    assert "∂L/∂W₁[1,2] net dL/dW1[1,2] — 0.25 not answered 0 / 1" in page


def test_feedback_names_the_earlier_values_carried_credit_follows_from():
    page = text(feedback_html("Sheet 9", CLASS[1]))
    assert (
        "∂L/∂W₁[1,2] net dL/dW1[1,2] −0.731 0.25 right with your own earlier values "
        "(error carried forward) follows from your own values of L, ∂L/∂b₁[1], which lead "
        "to −0.731 1 / 1"
    ) in page
    trivial = text(feedback_html("Sheet 9", CLASS[2]))
    assert "your own ∂L/∂W₁[1,2] make the rest trivial: no carried credit" in trivial
    assert "Your z₁ is all zeros." in trivial


def test_feedback_shows_subtotals_and_the_total():
    page = text(feedback_html("Sheet 9", CLASS[1]))
    # net: right 1 + carried 1 + close ½ + wrong 0; opt: right 1
    assert "Question 1: a two-layer network 2.5 of 4 points" in page
    assert "Subtotal 2.5 / 4" in page
    assert "Subtotal 1 / 1" in page
    assert page.count("Total: 3.5 of 5 points") == 2  # under the title and at the end
    assert "off by one in the last digit 0.5 / 1" in page


def test_subscripts_are_set_in_the_page_font_not_taken_from_another():
    html = feedback_html("Sheet 9", CLASS[2])
    assert "∂L/∂W<sub>1</sub>[1,2]" in html and "Your z<sub>1</sub> is all zeros." in html
    body = re.sub(r"<(style|svg)\b.*?</\1>", "", html, flags=re.S)
    assert not re.search("[₀-₉]", body)


def test_a_page_embeds_its_fonts_without_the_unused_italics():
    html = feedback_html("Sheet 9", CLASS[0])
    faces = re.findall(r"@font-face \{[^}]*\}", html)
    assert [re.search(r"font-weight: (\w+)", f)[1] for f in faces] == ["normal", "bold"]
    assert "font-style: italic" not in html and "http" not in html


def test_carried_credit_without_its_earlier_values_is_an_error_not_a_blank():
    bare = AnswerGrade("net L", "1", "2", "carried", ONE, ONE, carried_expected="1")
    graded = StudentGrade("s09", "", "V", (ExerciseGrade("net", "Q", (bare,)),))
    with pytest.raises(ValueError, match="net L: a 'carried' verdict names the earlier values"):
        feedback_html("Sheet 9", graded)


def test_feedback_escapes_what_students_typed():
    sly = replace_given(CLASS[0], "<b>1</b>")
    html = feedback_html("Sheet 9", sly)
    assert "<b>1</b>" not in html and "&lt;b&gt;1&lt;/b&gt;" in html


def replace_given(student: StudentGrade, given: str) -> StudentGrade:
    from dataclasses import replace

    first = student.exercises[0]
    answers = (replace(first.answers[0], given=given), *first.answers[1:])
    return replace(student, exercises=(replace(first, answers=answers), *student.exercises[1:]))


# --- the class summary ----------------------------------------------------------------


def test_success_rates_are_counted_exactly():
    stats = class_stats(CLASS)
    net_l, dw1, db1, dw2 = stats.exercises[0].answers
    assert (net_l.successes, net_l.students) == (3, 4)
    assert net_l.counts == {
        "right": 3,
        "carried": 0,
        "close": 0,
        "wrong": 1,
        "missing": 0,
        "trivial": 0,
    }
    assert (dw1.successes, dw2.successes) == (2, 3)  # carried credit counts as success
    assert db1.counts["close"] == 1 and db1.counts["trivial"] == 1


def test_the_summary_shows_rates_and_spreads():
    page = text(summary_html("Sheet 9", CLASS))
    assert "L net L 75 % (3 of 4) 3 0 0 1 0 0" in page
    assert "∂L/∂W₂[1,1] net dL/dW2[1,1] 75 % (3 of 4) 1 2 0 1 0 0" in page
    assert "W₁[1] new opt W1[1] new 50 % (2 of 4) 2 0 1 0 1 0" in page
    # totals 5, 3.5, 2, 2.5: mean 3.25, median 3; exercise 1: 4, 2.5, 2, 2 (mean 2.625)
    assert "Mean Median Lowest Highest All points No points 3.25 3 2 5 1 0" in page
    assert "Question 1: a two-layer network 4 2.63 2.25 2 4 1 0" in page
    assert "0 to under 1 0 1 to under 2 0 2 to under 3 2 3 to under 4 1 4 to 5 1" in page


def test_histogram_bins_hold_their_lower_edge_and_the_last_its_upper():
    bins = total_bins((Fraction(0), Fraction(1), Fraction(3, 2), Fraction(2)), Fraction(2))
    assert [(b.low, b.high, b.count) for b in bins] == [(0, 1, 1), (1, 2, 3)]
    wide = total_bins((Fraction(45),), Fraction(45))
    assert len(wide) == 10 and wide[-1].count == 1


def test_a_class_graded_on_different_columns_is_refused():
    other = student("s05", ("right",) * 4)
    other = StudentGrade(other.id, other.name, other.code, other.exercises[:1])
    with pytest.raises(ValueError, match="'s05' was graded on other exercises or columns"):
        class_stats([CLASS[0], other])


def test_the_plots_are_inline_svg_with_a_title_and_the_same_bytes_each_time():
    html = summary_html("Sheet 9", CLASS)
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) == 2
    for svg, title in zip(svgs, ("Distribution of the totals", "Verdicts per collected number")):
        assert re.search(r'<svg [^>]*role="img" aria-labelledby="(\w+)-title \1-desc"', svg)
        assert f'-title">{title}</title>' in svg and "<desc id=" in svg
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "two figures share an id"
    assert "<dc:date>" not in html and "http" not in html.replace("xmlns", "").split("<svg", 1)[0]
    assert summary_html("Sheet 9", CLASS) == html


def test_matplotlib_stays_in_the_plotting_module():
    package = Path(reports.__file__).parents[1]
    users = sorted(
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if re.search(r"^\s*(import|from) matplotlib", p.read_text(), flags=re.M)
    )
    assert users == ["grading/plots.py"]


def test_without_matplotlib_the_summary_says_how_to_get_it(monkeypatch):
    from exgen.errors import ExgenError

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ExgenError, match=r"pip install 'exgen\[grading\]'"):
        summary_html("Sheet 9", CLASS)


# --- writing the folder ---------------------------------------------------------------


def test_an_id_that_cannot_name_a_file_is_refused():
    from exgen.errors import OutputError

    bad = StudentGrade("../evil", "x", "V", CLASS[0].exercises)
    with pytest.raises(OutputError, match=r"'\.\./evil': a student id is"):
        report_files("Sheet 9", [bad], pdf=False)
    twice = [CLASS[0], CLASS[0]]
    with pytest.raises(OutputError, match="'s01' appears twice"):
        report_files("Sheet 9", twice, pdf=False)


@pytest.mark.pdf
def test_the_feedback_pdf_is_tagged_and_holds_the_verdicts(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    files = report_files("Sheet 9", CLASS[1:2], pdf=True)
    data = files["feedback/s02.pdf"]
    reader = pypdf.PdfReader(__import__("io").BytesIO(data))
    page = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    for verdict in ("right", "carried", "close", "wrong"):
        assert VERDICT_WORDS[verdict].label.split(" (")[0] in page  # type: ignore[index]
    assert "Subtotal" in page and "−0.731" in page
    assert "/StructTreeRoot" in str(reader.trailer["/Root"].keys())
    assert report_files("Sheet 9", CLASS[1:2], pdf=True)["feedback/s02.pdf"] == data


# --- accessibility --------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reports") / "grades"
    for name, data in report_files("Sheet 9", CLASS, pdf=False).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("width", (1200, 390))
@pytest.mark.parametrize("document", ("feedback/s03.html", "summary.html"))
def test_axe_finds_no_violations_in_the_reports(written, browser, document, width):  # noqa: F811
    axe_module = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
    )
    page = opened(browser, written / document, width)
    try:
        violations = axe_module.Axe().run(page).response["violations"]
        scroll = page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.close()
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(' '.join(n['target']) for n in v['nodes'][:3])}"
        for v in violations
    ]
    assert found == []
    assert scroll <= width  # the page never scrolls sideways

"""The grading reports: each student's feedback page (HTML and, unless told not to, PDF)
and the class summary, rendered from the grades and written into the grades folder.

``report_files`` gives them as bytes; the grade command writes them with grades.csv and
grades.json into the grades folder's staging folder, which lands in one swap."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from exgen.build.roster import ID_PATTERN, ID_RULE
from exgen.errors import OutputError
from exgen.grading.feedback import feedback_page
from exgen.grading.model import StudentGrade
from exgen.grading.plots import totals_histogram, verdict_bars
from exgen.grading.summary import Bin, Spread, class_stats, total_bins
from exgen.grading.wording import VERDICT_WORDS, percent, points
from exgen.render.pdf import html_to_pdfs
from exgen.render.typeface import font_css

TEMPLATES = Path(str(resources.files("exgen.grading.templates")))
FONT_SLOT = "/* @font-face rules go here */"
FEEDBACK = "feedback"  # the folder of the feedback pages, inside the grades folder
SUMMARY = "summary.html"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["subscripts"] = subscripts
    env.globals.update(
        verdict_words=VERDICT_WORDS,
        css=(TEMPLATES / "reports.css").read_text(encoding="utf-8"),
        font_css=FONT_SLOT,
    )
    return env


_SUBSCRIPTS = re.compile("[₀-₉]+")


def subscripts(text: str) -> Markup:
    """``text`` escaped, its subscript digits (W₁) set as <sub> in the page's own font:
    STIX has no glyphs for U+2080–2089, which a browser would take from another font."""
    return Markup(
        _SUBSCRIPTS.sub(
            lambda m: "<sub>" + m[0].translate(_PLAIN_DIGITS) + "</sub>", str(escape(text))
        )
    )


_PLAIN_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def _with_fonts(html: str) -> str:
    """Every font the page uses, inline: the page opens and prints the same everywhere.
    The reports set nothing in italics (no <em>, <i> or italic style), so the italic
    faces stay out: half the bytes of a class's thousand feedback pages."""
    rules = font_css(html).splitlines()
    if not re.search(r"<(em|i)\b|font-style: *italic", html):
        rules = [r for r in rules if "font-style: italic" not in r]
    return html.replace(FONT_SLOT, "\n".join(rules), 1)


def feedback_html(sheet_title: str, student: StudentGrade) -> str:
    """One student's feedback page."""
    html = (
        _environment()
        .get_template("feedback.html")
        .render(sheet_title=sheet_title, page=feedback_page(student))
    )
    return _with_fonts(html)


def summary_html(sheet_title: str, students: list[StudentGrade]) -> str:
    """The class summary: totals, each exercise, each collected number, with two plots."""
    stats = class_stats(students)
    bins = total_bins(stats.totals, stats.total.max_points)
    answers = [a for e in stats.exercises for a in e.answers]
    html = (
        _environment()
        .get_template("summary.html")
        .render(
            sheet_title=sheet_title,
            stats=stats,
            total=_spread(stats.total),
            exercises=[{"title": e.title, "spread": _spread(e.spread)} for e in stats.exercises],
            bins=[{"label": _bin_label(b), "count": b.count} for b in bins],
            histogram=totals_histogram(bins),
            bars=verdict_bars(
                [f"{a.exercise}: {a.quantity}" for a in answers], [a.counts for a in answers]
            ),
            answer_groups=[
                {
                    "title": e.title,
                    "rows": [
                        {
                            "quantity": a.quantity,
                            "column": a.column,
                            "rate": f"{percent(a.successes, a.students)} ({a.successes} of {a.students})",
                            "counts": a.counts,
                        }
                        for a in e.answers
                    ],
                }
                for e in stats.exercises
            ],
        )
    )
    return _with_fonts(html)


def _spread(spread: Spread) -> dict[str, str | int]:
    return {
        "max_points": points(spread.max_points),
        "mean": points(spread.mean),
        "median": points(spread.median),
        "low": points(spread.low),
        "high": points(spread.high),
        "full": spread.full,
        "zero": spread.zero,
    }


def _bin_label(b: Bin) -> str:
    if b.last:
        return f"{points(b.low)} to {points(b.high)}"
    return f"{points(b.low)} to under {points(b.high)}"


def report_files(sheet_title: str, students: list[StudentGrade], pdf: bool) -> dict[str, bytes]:
    """Every report, as paths inside the grades folder and their bytes: feedback/<id>.html
    (and .pdf when ``pdf``) for each student, and summary.html."""
    _check_ids(students)
    files: dict[str, bytes] = {}
    pages = [feedback_html(sheet_title, s) for s in students]
    for student, html in zip(students, pages):
        files[f"{FEEDBACK}/{student.id}.html"] = html.encode("utf-8")
    if pdf:
        for student, document in zip(students, html_to_pdfs(pages)):
            files[f"{FEEDBACK}/{student.id}.pdf"] = document
    files[SUMMARY] = summary_html(sheet_title, students).encode("utf-8")
    return files


def _check_ids(students: list[StudentGrade]) -> None:
    """Each id names its feedback files: a plain, unique name (the roster's rule)."""
    seen: set[str] = set()
    for s in students:
        if not ID_PATTERN.fullmatch(s.id):
            raise OutputError(
                f"student id {s.id!r}: a student id is {ID_RULE} (it names the feedback file)"
            )
        if s.id in seen:
            raise OutputError(
                f"student id {s.id!r} appears twice: each names its own feedback file"
            )
        seen.add(s.id)
    if not students:
        raise OutputError("no students: nothing to report")

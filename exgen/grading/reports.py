"""The grading reports: each student's feedback page (HTML and, unless told not to, PDF)
and the class summary, rendered from the grades and written into the grades folder.

The grade command calls ``write_reports(folder, sheet_title, students, pdf)`` once the
students are graded; ``report_files`` gives the same files as bytes, for a caller that
writes them into a staging folder of its own."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from exgen.build.output_folder import deferred_signals, make_folders, write_folder
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


def write_reports(folder: Path, sheet_title: str, students: list[StudentGrade], pdf: bool) -> None:
    """Write the feedback pages and the class summary into ``folder`` (out/NAME/grades/),
    touching nothing else. Everything is rendered first; then feedback/ is built in a
    staging folder and swapped in whole, and summary.html replaced in one rename: a
    failure leaves the earlier reports as they were."""
    files = report_files(sheet_title, students, pdf)

    def fill(staging: Path) -> None:
        for name, data in files.items():
            if name.startswith(f"{FEEDBACK}/"):
                (staging / name.removeprefix(f"{FEEDBACK}/")).write_bytes(data)

    write_folder(folder / FEEDBACK, fill)
    _replace_file(folder / SUMMARY, files[SUMMARY])


def _replace_file(target: Path, data: bytes) -> None:
    make_folders(target.parent)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.new-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary file (mkstemp makes it private)
        with deferred_signals():
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


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

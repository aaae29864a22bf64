"""Canvas Classic Quizzes' "Student Analysis" report read back as responses.

The report is a CSV, as Canvas writes it (app/models/quizzes/quiz_statistics/
student_analysis.rb, to_csv): ``name,id,sis_id,section,section_id,section_sis_id,
submitted,attempt`` (sis_id and section_sis_id only where the account shows SIS ids,
root_account after sis_id on trusting accounts, attempt only with "all versions"), then
for each question a column headed ``<question id>: <its text, tags stripped>`` with the
answer as typed and a column headed with its points possible with the score, then
``n correct,n incorrect,score``. So columns are found by their headings, never by their
place. exgen's package has one quiz per variant, so a grader passes one report per quiz;
each question's text starts with the line naming the variant and the slot
(qti.item_line), which is how a column finds its answer-form column."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from exgen.errors import AnswersError
from exgen.grading.answers_csv import csv_text, given_cell
from exgen.lms.qti import SLOT_LINE
from exgen.lms.questions import variant_named
from exgen.lms.responses import Attempt, Layout, Responses

_QUESTION = re.compile(r"(\d+):\s(.*)", re.DOTALL)
_SLOT = re.compile(SLOT_LINE.format(k=r"(\d+)", n=r"(\d+)"))


def looks_like_canvas(header: list[str]) -> bool:
    cells = [h.strip().lstrip("\ufeff") for h in header]
    return (
        "submitted" in cells
        and cells[-1:] == ["score"]
        and any(_QUESTION.fullmatch(h) for h in cells)
    )


def read_canvas_responses(paths: list[Path], layout: Layout, lenient: bool) -> Responses:
    """One Attempt per person and report: where a person has several rows in one report
    (a report with all versions has one per attempt of the quiz), their latest attempt
    is graded: the highest ``attempt``, then the latest ``submitted``, then the first row
    (Canvas lists the newest submissions first)."""
    responses = Responses()
    for path in paths:
        _read_one(path, layout, lenient, responses)
    return responses


def _read_one(path: Path, layout: Layout, lenient: bool, responses: Responses) -> None:
    source = str(path)
    text = csv_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not looks_like_canvas(header):
        raise AnswersError(
            "not a Canvas Student Analysis report (expected the header "
            "name,id,sis_id,…,submitted,<question id>: <question>,<points>,…,score)",
            source,
            1,
        )
    header = [h.strip() for h in header]
    where = _question_columns(header, layout, source)
    latest: dict[str, tuple[tuple[int, str, int], Attempt]] = {}
    for cells in reader:
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        cell = dict(zip(header, cells))
        person = cell.get("sis_id", "").strip() or cell.get("id", "").strip()
        if not person:
            raise AnswersError("no sis_id and no id: whose attempt is it?", source, row, "id")
        attempt = Attempt(person, cell.get("name", "").strip(), row, source)
        for k, (exercise, code, column) in where.items():
            given = given_cell(cells[k], source, row, header[k], lenient, responses.problems)
            attempt.exercises.setdefault(exercise, (code, {}))[1][column] = given
        order = (
            _attempt_number(cell.get("attempt", ""), source, row),
            cell.get("submitted", "").strip(),  # as Canvas writes it: 2026-12-01 10:00:00 UTC
            -row,
        )
        if person not in latest or order > latest[person][0]:
            latest[person] = (order, attempt)
    responses.attempts.extend(a for _, a in sorted(latest.values(), key=lambda e: e[1].row))


def _question_columns(
    header: list[str], layout: Layout, source: str
) -> dict[int, tuple[str, str, str]]:
    """Column number -> (exercise, variant code, answer-form column) of each question."""
    where: dict[int, tuple[str, str, str]] = {}
    codes: dict[str, str] = {}
    for k, heading in enumerate(header):
        found = _QUESTION.fullmatch(heading)
        if found is None:  # name, id, …, a question's points, n correct, …
            continue
        named = variant_named(found[2])
        slot = _SLOT.search(found[2])
        if named is None or slot is None:
            raise AnswersError(
                "the question names no exgen variant and answer (not from exgen's QTI package?)",
                source,
                1,
                heading,
            )
        exercise, code = named
        if code not in layout.codes:
            raise AnswersError(
                f"unknown variant code {code} (not of this class)", source, 1, heading
            )
        columns = layout.columns.get(exercise)
        n, total = int(slot[1]), int(slot[2])
        if columns is None or total != len(columns) or not 1 <= n <= total:
            raise AnswersError(
                f"answer {n} of {total} of question {exercise} is not one of this class's "
                "answers (was the sheet changed since the quiz was exported?)",
                source,
                1,
                heading,
            )
        if codes.setdefault(exercise, code) != code:
            raise AnswersError(
                f"question {exercise} of variants {codes[exercise]} and {code} in one report",
                source,
                1,
                heading,
            )
        where[k] = (exercise, code, columns[n - 1])
    return where


def _attempt_number(text: str, source: str, row: int) -> int:
    try:
        return int(text.strip() or "1")
    except ValueError:
        raise AnswersError(
            f"attempt {text!r} is not a whole number", source, row, "attempt"
        ) from None

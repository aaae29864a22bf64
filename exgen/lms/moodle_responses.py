"""Moodle's quiz "Responses" report, downloaded as CSV, read back for grading.

The report has one row per attempt: the person (surname, first name, often the e-mail),
the attempt's state, times and grade, then per quiz slot N the question's text as plain
text (when "Question text" is ticked), the response and the right answer. Its headings
are in the teacher's UI language, so columns are found by their trailing N and by what
they hold: the question-text column is the one whose cells name a variant ("Variant
DCF014 of question q1"), the response is the next column of that N.

A cloze response is the summary ``qtype_multianswer_question::summarise_response`` writes
(question/type/multianswer/question.php): each part as qtype_multianswer's lang string
subqresponse, 'part {$a->i}: {$a->response}' (French 'partie {$a->i} : …', Spanish
'parte', Polish 'część', Arabic 'الجزء' …: any words, the part's number, a colon), joined
by '; '; nothing after the colon is a part left unanswered. Moodle's CSV dataformat
(dataformat/csv/classes/writer.php, Spout's CSV writer) writes ',' and a UTF-8 BOM; a file
saved again by a spreadsheet may have ';' and no BOM, and both are read."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from exgen.errors import AnswersError
from exgen.grading.answers_csv import Given, csv_text, given_cell
from exgen.lms.questions import variant_named
from exgen.lms.responses import Attempt, Layout, Responses

_NUMBERED = re.compile(r"^(.*?)\s*(\d+)\s*$")
# one part of a summary in any language: a word or two, the part's number, a colon
_PART = re.compile(r"^\s*[^\d;:]*?(\d+)\s*:\s?(.*)$", re.S)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# what the report writes for a slot with no response
_NOTHING = {"", "-"}


def looks_like_moodle(header: list[str]) -> bool:
    """A Moodle report's heading: person columns first, then numbered column triples
    (exgen's own answer-form.csv starts with 'id')."""
    if not header or header[0].strip().lstrip("\ufeff").lower() == "id":
        return False
    numbers = [m[2] for h in header if (m := _NUMBERED.match(h.strip()))]
    return len(numbers) >= 2 and any(numbers.count(n) >= 2 for n in set(numbers))


def delimiter(text: str) -> str:
    """Moodle writes ',' or, in languages with a decimal comma, ';'."""
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def read_moodle_responses(path: Path, layout: Layout, lenient: bool = False) -> Responses:
    source = str(path)
    text = csv_text(path)  # the download may start with a BOM
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1  # a cell of question text may span lines
    if not rows:
        raise AnswersError("the file is empty", source)
    header = [h.strip() for h in rows[0][1]]
    body = rows[1:]
    slots = _slots(header, body, source)
    email = _email_column(header, body, min(q for q, _ in slots))
    out = Responses()
    for line, row in body:
        cells = row + [""] * (len(header) - len(row))
        named = [(q, r, variant_named(cells[q])) for q, r in slots]
        if not any(n for _, _, n in named):
            if any(cells[q].strip() for q, _ in slots):
                raise AnswersError(
                    'no question text names a variant ("Variant … of question …"): '
                    "is this the report of exgen's quiz?",
                    source,
                    line,
                )
            continue  # the "Overall average" footer, a blank line
        person = cells[email].strip() if email is not None else ""
        name = " ".join(c.strip() for c in (cells[1], cells[0]) if c.strip())
        attempt = Attempt(person or name, name, line, source)
        for q, r, found in named:
            if found is None:
                continue
            exercise, code = found
            if exercise not in layout.columns or code not in layout.codes:
                raise AnswersError(
                    f"variant {code} of question {exercise} is not one of this class's",
                    source,
                    line,
                    header[q],
                )
            given = _parts(
                cells[r], layout.columns[exercise], source, line, header[r], lenient, out
            )
            attempt.exercises[exercise] = (code, given)
        out.attempts.append(attempt)
    return out


def _slots(
    header: list[str], body: list[tuple[int, list[str]]], source: str
) -> list[tuple[int, int]]:
    """(question-text column, response column) of every quiz slot."""
    by_number: dict[str, list[int]] = {}
    for k, h in enumerate(header):
        if (m := _NUMBERED.match(h)) is not None:
            by_number.setdefault(m[2], []).append(k)
    slots = []
    for columns in by_number.values():
        for i, k in enumerate(columns):
            names = any(variant_named(row[k]) for _, row in body if k < len(row))
            if names and i + 1 < len(columns):
                slots.append((k, columns[i + 1]))
                break
    if not slots:
        raise AnswersError(
            'no column holds the questions\' text: tick "Question text" (and "Response") '
            "when downloading Moodle's Responses report",
            source,
            1,
        )
    return sorted(slots)


def _email_column(header: list[str], body: list[tuple[int, list[str]]], before: int) -> int | None:
    """The person column whose every filled cell is an e-mail address, if any."""
    for k in range(min(before, len(header))):
        filled = [row[k].strip() for _, row in body if k < len(row) and row[k].strip()]
        if filled and all(_EMAIL.match(c) for c in filled if c) and len(filled) >= len(body) // 2:
            return k
    return None


def _parts(
    cell: str,
    columns: list[str],
    source: str,
    line: int,
    heading: str,
    lenient: bool,
    out: Responses,
) -> dict[str, Given]:
    """Part k of the response summary as the number in the exercise's k-th column; a part
    left empty, or missing, is not answered."""
    given = {c: Given("", None) for c in columns}
    if cell.strip() in _NOTHING:
        return given
    pieces: list[list[str]] = []
    for piece in cell.split("; "):
        m = _PART.match(piece)
        if m is not None:
            pieces.append([m[1], m[2]])
        elif pieces:  # a '; ' inside a response: Moodle does not escape its separator
            pieces[-1][1] += "; " + piece
        else:
            raise AnswersError(f"{cell!r} is not a cloze response summary", source, line, heading)
    for number, text in pieces:
        k = int(number)
        if not 1 <= k <= len(columns):
            raise AnswersError(
                f"part {k} of {cell!r}: the question has {len(columns)} parts",
                source,
                line,
                heading,
            )
        given[columns[k - 1]] = given_cell(
            text.strip(), source, line, heading, lenient, out.problems, f"part {k}: "
        )
    return given

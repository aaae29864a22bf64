"""Reading what students hand in: a CSV headed like answer-form.csv (id, name, one column
per collected number), with numbers as people write them: ``.`` or ``,`` decimals, ``−``
or ``-``, spaces around them or between groups of three digits, empty for not answered."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from exgen.errors import AnswersError

# spaces a spreadsheet or a word processor puts around or inside a number
SPACES = " \t\u00a0\u2009\u202f"
_NUMBER = re.compile(
    r"(?P<sign>[+-]?)"
    r"(?P<whole>\d{1,3}(?: \d{3})+|\d*)"  # 1 234 567 (groups of three), or plain digits
    r"(?:(?P<mark>[.,])(?P<frac>\d+))?"
    r"(?:[eE](?P<exp>[+-]?\d{1,3}))?"
)
EXPECTED = "expected a number such as -0.25, −0,25 or 1 234.5, or an empty cell"


def parse_number(text: str) -> Fraction | None:
    """A number as a student wrote it, exactly; None for an empty cell. Raises ValueError
    (its message says why) for anything else."""
    cleaned = text.strip(SPACES).replace("\u2212", "-")
    for space in SPACES[1:]:
        cleaned = cleaned.replace(space, " ")
    if not cleaned:
        return None
    if "." in cleaned and "," in cleaned:
        raise ValueError(f"{text!r} has both '.' and ',': write one decimal mark")
    found = _NUMBER.fullmatch(cleaned)
    if found is None or not (found["whole"] or found["frac"]):
        raise ValueError(f"{text!r} is not a number ({EXPECTED})")
    value = Fraction((found["whole"].replace(" ", "") or "0") + "." + (found["frac"] or "0"))
    if found["exp"]:
        value *= Fraction(10) ** int(found["exp"])
    return -value if found["sign"] == "-" else value


@dataclass(frozen=True)
class Given:
    """One cell: as written, and its value (None: empty, or unreadable under --lenient)."""

    text: str
    value: Fraction | None
    problem: str = ""  # why it could not be read (--lenient)


@dataclass
class Answers:
    """Each student's cells by column; the students the file has a row for."""

    rows: dict[str, dict[str, Given]] = field(default_factory=dict)
    problems: list[AnswersError] = field(default_factory=list)  # --lenient: left ungraded


def given_cell(
    text: str,
    source: str,
    row: int,
    column: str,
    lenient: bool,
    problems: list[AnswersError],
    what: str = "",
) -> Given:
    """One handed-in number as a Given (an empty cell: not answered). One that does not
    parse is an AnswersError naming file, row and column (``what`` before the reason, e.g.
    "part 3: "); with ``lenient`` it is recorded in ``problems`` and graded as wrong."""
    try:
        return Given(text, parse_number(text))
    except ValueError as exc:
        problem = AnswersError(what + str(exc), source, row, column)
        if not lenient:
            raise problem from None
        problems.append(problem)
        return Given(text, None, str(exc))


def csv_text(path: Path) -> str:
    """A CSV file's text (UTF-8, a spreadsheet's BOM dropped); AnswersError naming the
    file when it cannot be read or is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise AnswersError(f"cannot read the file: {exc.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise AnswersError("not UTF-8 text (save the CSV as UTF-8)", str(path)) from None


def read_answers(
    path: Path, students: dict[str, str], columns: list[str], lenient: bool = False
) -> Answers:
    """``students``: id -> name of the class; ``columns``: the collected columns. Every
    problem is an AnswersError naming file, row and column; with ``lenient`` a number that
    does not parse is recorded instead (its answer is graded as wrong)."""
    source = str(path)
    text = csv_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise AnswersError("the file is empty (expected answer-form.csv's header)", source, 1)
    header = [h.strip(SPACES) for h in header]
    if not header or header[0] != "id":
        raise AnswersError("the first column must be 'id', as in answer-form.csv", source, 1)
    known = set(columns)
    for k, name in enumerate(header):
        if name in header[:k]:
            raise AnswersError("the column appears twice", source, 1, name)
        if k and name != "name" and name not in known:
            raise AnswersError(
                "not a collected answer (expected the columns of answer-form.csv)",
                source,
                1,
                name,
            )
    absent = [c for c in columns if c not in header]
    if absent:
        raise AnswersError(
            f"missing column {absent[0]!r}"
            + (f" and {len(absent) - 1} more" if len(absent) > 1 else "")
            + " (keep every column of answer-form.csv; leave a cell empty for no answer)",
            source,
            1,
        )
    answers = Answers()
    seen: dict[str, int] = {}
    for cells in reader:
        row = reader.line_num
        if not any(c.strip(SPACES) for c in cells):
            continue
        if len(cells) > len(header):
            raise AnswersError(
                f"{len(cells)} cells, but the header has {len(header)} columns", source, row
            )
        student = cells[0].strip(SPACES)
        if student not in students:
            raise AnswersError(
                f"unknown student id {student!r} (not in the class)", source, row, "id"
            )
        if student in seen:
            raise AnswersError(
                f"student {student!r} appears twice (also row {seen[student]})", source, row, "id"
            )
        seen[student] = row
        given: dict[str, Given] = {}
        for name, cell in zip(header, cells + [""] * (len(header) - len(cells))):
            if name in ("id", "name"):
                continue
            given[name] = given_cell(cell, source, row, name, lenient, answers.problems)
        answers.rows[student] = given
    return answers

"""`exgen grade` of a platform's responses report (Moodle's "Responses" CSV, Canvas's
student analysis CSVs): each attempt graded against the variants its questions named,
exercise by exercise, as answer-form.csv's rows are."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from exgen.build.roster import ID_PATTERN
from exgen.build.variants import Student, class_secret, student_seed, variant_code
from exgen.define.load import SheetDef
from exgen.errors import AnswersError
from exgen.grading.answers_csv import Answers, csv_text
from exgen.grading.grade import (
    GRADES,
    GradeRun,
    Work,
    class_columns,
    class_of,
    grade_work,
    write_grades,
)
from exgen.lms.responses import Layout, Responses

FORM, MOODLE, CANVAS = "answer form", "Moodle responses report", "Canvas student analysis"


def report_kind(path: Path) -> str:
    """Which kind of file ``path`` is, by its header: exgen's own answer form (first
    column ``id``), Moodle's responses report or Canvas's student analysis."""
    text = csv_text(path)
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    if header and header[0].strip() == "id":
        return FORM
    from exgen.lms.canvas_responses import looks_like_canvas
    from exgen.lms.moodle_responses import delimiter, looks_like_moodle

    if looks_like_canvas(header):
        return CANVAS
    if looks_like_moodle(
        next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text)), [])
    ):
        return MOODLE
    raise AnswersError(
        "not a file exgen can grade: expected answer-form.csv's columns (id, name, …), "
        "Moodle's quiz Responses report or Canvas's Student Analysis, as CSV",
        str(path),
        1,
    )


def grade_responses(
    name_or_path: str,
    out_dir: Path,
    paths: list[Path],
    kind: str,
    students: list[Student] | None,
    secret: str | None = None,
    lenient: bool = False,
    pdf: bool = True,
    progress: Callable[[str], None] = lambda step: None,
) -> GradeRun:
    from exgen.build.output_folder import write_folder

    sheet, target, students = class_of(name_or_path, out_dir, students, secret)
    owners = _owners(sheet, students, secret)
    columns = class_columns(sheet, students[0], secret)  # one list per exercise, in order
    layout = Layout(
        {
            ex.spec.id: [c.column for c in cols]
            for ex, cols in zip(sheet.exercises, columns)
            if cols
        },
        frozenset(owners),
    )
    responses = _read(kind, paths, layout, lenient)
    work = _work(responses, owners)
    grades = grade_work(sheet, work, secret, progress)
    answers = Answers({w.person.id: w.given for w in work}, responses.problems)
    folder = target / GRADES
    write_folder(folder, lambda staging: write_grades(staging, sheet, grades, answers, pdf))
    return GradeRun(folder, grades, answers, [], len(responses.attempts) - len(work))


def _owners(sheet: SheetDef, students: list[Student], secret: str | None) -> dict[str, Student]:
    """Each variant code of the class -> the student whose variant it is."""
    key = class_secret(sheet, secret)
    return {variant_code(student_seed(key, s.id)): s for s in students}


def _read(kind: str, paths: list[Path], layout: Layout, lenient: bool) -> Responses:
    if kind == CANVAS:
        from exgen.lms.canvas_responses import read_canvas_responses

        return read_canvas_responses(paths, layout, lenient)
    from exgen.lms.moodle_responses import read_moodle_responses

    if len(paths) > 1:
        raise AnswersError("give Moodle's responses report as one file", str(paths[1]))
    return read_moodle_responses(paths[0], layout, lenient)


def _work(responses: Responses, owners: dict[str, Student]) -> list[Work]:
    """One Work per person, with an id fit to name their feedback files; of a person's
    several attempts, the one the report lists last (Canvas's reader has already kept
    each quiz's latest)."""
    last = {a.person: a for a in responses.attempts}
    ids: set[str] = set()
    out = []
    for person, attempt in last.items():
        given = {}
        mine = {}
        for exercise, (code, cells) in attempt.exercises.items():
            if code not in owners:
                raise AnswersError(
                    f"variant {code} of question {exercise} is not one of this class's "
                    "(built with another --seed, roster or --variants?)",
                    attempt.source,
                    attempt.row,
                )
            mine[exercise] = owners[code]
            given.update(cells)
        out.append(Work(Student(_file_id(person, ids), attempt.name or person), given, mine))
    return out


def _file_id(person: str, taken: set[str]) -> str:
    """The person as a student id (letters, digits, '.', '_', '-'): an e-mail's '@' and a
    name's spaces become '-', and a repeat gets -2, -3, …"""
    plain = unicodedata.normalize("NFKD", person).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", plain).strip("-._")[:60] or "person"
    candidate, n = base, 1
    while candidate in taken or not ID_PATTERN.fullmatch(candidate):
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate

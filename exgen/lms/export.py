"""`exgen export`: a class's variants as one file for a learning platform, beside the class
build's files (out/NAME/moodle.xml or out/NAME/qti.zip), checked before it lands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exgen.build.output_folder import MARKER, MARKER_TEXT, make_folders, replace_file
from exgen.build.variants import Student
from exgen.errors import ExportError
from exgen.grading.grade import class_of
from exgen.lms.questions import ClassQuestions, class_questions


@dataclass(frozen=True)
class Format:
    file: str  # its name in out/NAME/
    write: Callable[[ClassQuestions], bytes]
    check: Callable[[bytes], list[str]]  # the problems of a written file ([]: none)


def _moodle() -> Format:
    from exgen.lms.moodle_check import check_moodle_xml
    from exgen.lms.moodle_xml import moodle_xml

    return Format("moodle.xml", moodle_xml, check_moodle_xml)


def _qti() -> Format:
    from exgen.lms.qti import qti_package
    from exgen.lms.qti_check import check_qti_package

    return Format("qti.zip", qti_package, check_qti_package)


FORMATS: dict[str, Callable[[], Format]] = {"moodle": _moodle, "qti": _qti}


@dataclass(frozen=True)
class Exported:
    path: Path
    variants: int
    questions: int


def export_sheet(
    name_or_path: str,
    out_dir: Path,
    to: str,
    students: list[Student] | None = None,
    secret: str | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> Exported:
    """The class (``students`` None: the one in out/NAME/manifest.json) as ``to``'s file
    in out/NAME/, replacing only that file."""
    form = FORMATS[to]()
    sheet, target, students = class_of(name_or_path, out_dir, students, secret)
    questions = class_questions(sheet, students, secret, progress)
    if not questions.exercises:
        raise ExportError(
            f"{sheet.source}: no exercise collects numbers, so there is nothing to ask on "
            "a platform (give an exercise a numeric ask, or collect: its values)"
        )
    progress(f"writing {form.file}")
    data = form.write(questions)
    problems = form.check(data)
    if problems:  # exgen's own mistake, never the user's: say so rather than hand it on
        raise ExportError(
            f"{form.file} fails its own check ({len(problems)} problems), not written: "
            + problems[0]
        )
    if not target.exists():
        make_folders(target)
        (target / MARKER).write_bytes(MARKER_TEXT)
    path = target / form.file
    replace_file(path, data)
    return Exported(path, len(students), sum(len(v) for v in questions.variants))

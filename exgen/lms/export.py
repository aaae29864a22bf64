"""`exgen export`: a class's variants as one file for a learning platform, beside the class
build's files (out/NAME/moodle.xml or out/NAME/qti.zip), checked before it lands."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exgen import __version__
from exgen.build.class_files import definition_fingerprint
from exgen.build.output_folder import MARKER, MARKER_TEXT, make_folders, replace_file
from exgen.build.variants import Student
from exgen.define.load import SheetDef
from exgen.errors import ExportError
from exgen.grading.grade import MANIFEST, class_of
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
class BuiltKeys:
    """A student's key.json from the class build in ``target``, for the students its
    manifest lists when the build is of this definition by this exgen (None otherwise);
    the gathering checks each key's seed against the variant it draws, so a key is never
    used for another variant. A class (not a closure): the workers get it pickled."""

    target: Path
    ids: frozenset[str]

    def __call__(self, student: Student) -> dict | None:
        if student.id not in self.ids:
            return None
        try:
            return json.loads((self.target / "variants" / student.id / "key.json").read_bytes())
        except (OSError, ValueError):
            return None


def built_keys(sheet: SheetDef, target: Path) -> BuiltKeys:
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    same = manifest.get("exgen") == __version__ and manifest.get("definition") == (
        definition_fingerprint(Path(sheet.source))
    )
    ids = {s.get("id") for s in manifest.get("students", [])} if same else set()
    return BuiltKeys(target, frozenset(ids))


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
    questions = class_questions(sheet, students, secret, progress, built_keys(sheet, target))
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

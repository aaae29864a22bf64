"""Who is in the class: a roster file, the numbers 001…N, or the manifest of an earlier
class build; and the one student `--student` names, who must be one of them."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import unicodedata
from pathlib import Path

from exgen.build.output_folder import is_exgen_folder, quoted
from exgen.build.variants import Student
from exgen.errors import ArgumentError, DefinitionError, OutputError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ID_RULE = "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"
MAX_STUDENTS = 10_000  # as many as --variants allows
MAX_ROSTER_BYTES = 4 * 1024 * 1024  # 10,000 students with long names fit easily
MAX_NAME = 200
# characters that reorder or hide text in the sheets, the booklet and answers.csv
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def numbered(count: int) -> list[Student]:
    width = max(3, len(str(count)))
    return [Student(f"{i:0{width}d}") for i in range(1, count + 1)]


def _undecodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def check_utf8(option: str, text: str | None) -> None:
    """Refuse a value whose bytes are not UTF-8 (Python keeps them as lone surrogates)."""
    if text is not None and _undecodable(text):
        raise ArgumentError(f"{option} {quoted(text)}: not UTF-8 text")


def check_student_id(ident: str) -> None:
    if not ID_PATTERN.fullmatch(ident):
        raise ArgumentError(
            f"--student {quoted(ident)}: a student id is {ID_RULE} (it names the student's folder)"
        )


def pick_student(ident: str, students: list[Student] | None, source: str, target: Path) -> Student:
    """The student ``ident`` of the class: from ``students`` (read from ``source``), or,
    when none are given, from the manifest of the class build in ``target``."""
    check_student_id(ident)
    if students is None:
        students, source = manifest_students(target), f"the class build in {target}"
    for student in students:
        if student.id == ident:
            return student
    raise ArgumentError(f"--student {ident!r} is not a student of {source}")


def manifest_students(target: Path) -> list[Student]:
    path = target / "manifest.json"
    if not is_exgen_folder(target) or not path.is_file():
        raise ArgumentError(
            f"--student: {target} holds no class build to take the student from; "
            f"give --roster or --variants as well"
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        students = [Student(s["id"], s.get("name") or "") for s in data["students"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise OutputError(f"{path}: not a manifest exgen wrote; build the class again") from None
    for s in students:
        if (
            not isinstance(s.id, str)
            or not isinstance(s.name, str)
            or not ID_PATTERN.fullmatch(s.id)
            or _name_problem(s.name)
        ):
            raise OutputError(f"{path}: not a manifest exgen wrote; build the class again")
    return students


def read_roster(path: str) -> list[Student]:
    """Students from a UTF-8 CSV with an `id` column and an optional `name` column."""
    text = _roster_text(path)
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise DefinitionError(_csv_problem(exc), path, line=1) from None
    if "id" not in fields:
        raise DefinitionError(
            f"expected an 'id' column, found columns: {', '.join(fields) or 'none'}", path, line=1
        )
    reader.fieldnames = fields
    students, seen = [], {}
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            # the reader counts a line once it is through it: this one is the next
            raise DefinitionError(_csv_problem(exc), path, line=reader.line_num + 1) from None
        line = reader.line_num
        ident = (row.get("id") or "").strip()
        if not ID_PATTERN.fullmatch(ident):
            raise DefinitionError(
                f"student id {ident!r} must be 1–64 letters, digits, '.', '_' or "
                f"'-' (it names the student's folder)",
                path,
                line=line,
            )
        if ident in seen:
            raise DefinitionError(
                f"student id {ident!r} appears twice (also line {seen[ident]})", path, line=line
            )
        name = (row.get("name") or "").strip()
        problem = _name_problem(name)
        if problem:
            raise DefinitionError(f"the name of student {ident!r} {problem}", path, line=line)
        seen[ident] = line
        students.append(Student(ident, name))
        if len(students) > MAX_STUDENTS:
            raise DefinitionError(f"more than {MAX_STUDENTS:,} students", path, line=line)
    if not students:
        raise DefinitionError("the roster lists no students", path)
    return students


def _roster_text(path: str) -> str:
    """The roster's text: a regular file of bounded size (not a device, not a pipe)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise DefinitionError("no such roster file", path) from None
    except OSError as exc:
        raise DefinitionError(f"cannot read the roster ({exc.strerror})", path) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DefinitionError("the roster is not a regular file", path)
        if info.st_size > MAX_ROSTER_BYTES:
            raise DefinitionError(
                f"the roster has {info.st_size:,} bytes; at most {MAX_ROSTER_BYTES:,} are read",
                path,
            )
        data = file.read(MAX_ROSTER_BYTES + 1)
    if len(data) > MAX_ROSTER_BYTES:  # it grew while being read
        raise DefinitionError(f"the roster has more than {MAX_ROSTER_BYTES:,} bytes", path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"the roster is not UTF-8 (byte {exc.start})", path) from None


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell longer than {csv.field_size_limit():,} characters (names have at most {MAX_NAME})"
    return f"not a valid CSV row ({exc})"


def _name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME:
        return f"has {len(name):,} characters; at most {MAX_NAME}"
    for ch in name:
        if ch in _BIDI or unicodedata.category(ch) == "Cc":
            kind = "a bidirectional control" if ch in _BIDI else "a control character"
            return (
                f"contains {kind} (U+{ord(ch):04X}), which would hide or reorder text; "
                f"write the name without it"
            )
    return None

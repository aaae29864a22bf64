"""Grading a class: each student against their own variant (redrawn from the class's
roster or manifest and secret), each collected number against the key, and a wrong one
also against the engine re-run from the student's own earlier values."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from exgen.asks.collect import Collected, collected
from exgen.build.chunks import map_in_chunks
from exgen.build.class_files import secret_fingerprint
from exgen.build.single import sheet_target, work_asks, write_files
from exgen.build.variants import (
    Student,
    Variant,
    class_secret,
    make_variant,
    variant_rules_block,
)
from exgen.define.load import ExerciseDef, SheetDef, load_sheet
from exgen.engine.rounding import scaled_shown
from exgen.engine.solve import Trace
from exgen.errors import ArgumentError, DefinitionError
from exgen.grading.answers_csv import Answers, Given, read_answers
from exgen.grading.ecf import Recomputer, Upstream
from exgen.grading.grades_csv import grades_csv, grades_json
from exgen.grading.model import AnswerGrade, ExerciseGrade, StudentGrade
from exgen.grading.policy import Policy, judge, policy_of
from exgen.render.keyjson import key_document

GRADES = "grades"  # out/NAME/grades/
MANIFEST = "manifest.json"
NOT_ANSWERED = Given("", None)


@dataclass
class GradeRun:
    target: Path  # out/NAME/grades
    grades: list[StudentGrade]
    answers: Answers  # with the unreadable cells (--lenient)
    without_row: list[str]  # students the answers file has no row for
    superseded: int = 0  # a platform's report: attempts left ungraded for a later one


def grade_sheet(
    name_or_path: str,
    out_dir: Path,
    answers_path: Path,
    students: list[Student] | None,
    secret: str | None = None,
    lenient: bool = False,
    pdf: bool = True,
    progress: Callable[[str], None] = lambda step: None,
) -> GradeRun:
    """`exgen grade`: the class (``students`` None: the one in out/NAME/manifest.json)
    graded from ``answers_path`` into out/NAME/grades/, written in one swap."""
    from exgen.build.output_folder import write_folder

    sheet, target, students = class_of(name_or_path, out_dir, students, secret)
    columns = [c.column for ex in class_columns(sheet, students[0], secret) for c in ex]
    answers = read_answers(answers_path, {s.id: s.name for s in students}, columns, lenient)
    grades = grade_class(sheet, students, answers, secret, progress)
    folder = target / GRADES

    def fill(staging: Path) -> None:
        write_grades(staging, sheet, grades, answers, pdf)

    write_folder(folder, fill)
    without = [s.id for s in students if s.id not in answers.rows]
    return GradeRun(folder, grades, answers, without)


def class_of(
    name_or_path: str, out_dir: Path, students: list[Student] | None, secret: str | None
) -> tuple[SheetDef, Path, list[Student]]:
    """The sheet, its output folder out/NAME and its class (``students`` None: the one
    the class build's manifest names, drawn with the same secret)."""
    sheet = load_sheet(name_or_path)
    variant_rules_block(sheet)
    target = sheet_target(sheet, out_dir)
    if students is None:
        students = manifest_students(target / MANIFEST, sheet, secret)
    return sheet, target, students


def write_grades(
    staging: Path, sheet: SheetDef, grades: list[StudentGrade], answers: Answers, pdf: bool
) -> None:
    """grades.csv and grades.json, the feedback pages (feedback/<id>.html, and .pdf unless
    not ``pdf``) and summary.html into the staging folder of out/NAME/grades/: the whole
    folder lands in one swap."""
    from exgen.grading.reports import report_files  # WeasyPrint: loaded only to write pages

    problems = [str(p) for p in answers.problems]
    write_files(
        staging,
        {
            "grades.csv": grades_csv(sheet, grades),
            "grades.json": grades_json(sheet.name, grades, problems),
            **report_files(sheet.spec.title, grades, pdf),
        },
    )


def manifest_students(path: Path, sheet: SheetDef, secret: str | None) -> list[Student]:
    """The students of the class build, checked to be drawn with the same secret."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArgumentError(
            f"no class build at {path}: give --variants N or --roster FILE "
            "(and --seed) as for the class build"
        ) from None
    except (OSError, ValueError) as exc:
        raise ArgumentError(f"cannot read {path}: {exc}") from None
    fingerprint = secret_fingerprint(class_secret(sheet, secret))
    if manifest.get("secret_fingerprint") != fingerprint:
        raise ArgumentError(f"the class in {path} was built with another secret: give its --seed")
    return [Student(s["id"], s["name"]) for s in manifest["students"]]


def class_columns(sheet: SheetDef, student: Student, secret: str | None) -> list[list[Collected]]:
    """Each exercise's collected numbers (the same columns for every student)."""
    variant = make_variant(sheet, student, secret)
    key = _key(variant.sheet, variant.traces)
    return [
        collected(ex.spec.id, key["exercises"][ex.spec.id], ex.spec)
        for ex in variant.sheet.exercises
    ]


@dataclass(frozen=True)
class Work:
    """One person to grade: their cells by column and, for each exercise, whose variant
    they answered (``owners`` None: their own, for every exercise — a class's answer
    form; from a platform, the variant its question named, which may differ by exercise)."""

    person: Student  # the grades' id and name
    given: dict[str, Given]
    owners: dict[str, Student] | None = None  # exercise id -> the variant's student


def grade_class(
    sheet: SheetDef,
    students: list[Student],
    answers: Answers,
    secret: str | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> list[StudentGrade]:
    """Every student of the class, in roster order (a student without a row: nothing
    answered)."""
    work = [Work(s, answers.rows.get(s.id, {})) for s in students]
    return grade_work(sheet, work, secret, progress)


def grade_work(
    sheet: SheetDef,
    work: list[Work],
    secret: str | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> list[StudentGrade]:
    """Each person of ``work``, in its order, graded in chunks on every core."""
    policies = [policy_of(sheet.spec.grading, ex.spec.grading) for ex in sheet.exercises]
    out = map_in_chunks(
        functools.partial(_grade_chunk, sheet, policies, secret),
        work,
        CHUNK,
        lambda done: progress(f"graded {done} of {len(work)}"),
    )
    if out:
        _check_weights(sheet, max(out, key=lambda g: len(g.exercises)))
    return out


CHUNK = 50  # students a worker grades at a time


def _grade_chunk(
    sheet: SheetDef, policies: list[Policy], secret: str | None, chunk: list[Work]
) -> list[StudentGrade]:
    return [grade_student(sheet, w, policies, secret) for w in chunk]


def grade_student(
    sheet: SheetDef, work: Work, policies: list[Policy], secret: str | None = None
) -> StudentGrade:
    variants: dict[str, tuple[Variant, dict]] = {}  # student id -> variant and key, made once

    def variant_of(owner: Student) -> tuple[Variant, dict]:
        if owner.id not in variants:
            variant = make_variant(sheet, owner, secret)
            variants[owner.id] = variant, _key(variant.sheet, variant.traces)
        return variants[owner.id]

    exercises, codes = [], []
    for k, (ex, policy) in enumerate(zip(sheet.exercises, policies)):
        owner = work.person if work.owners is None else work.owners.get(ex.spec.id)
        if owner is None:  # a platform's attempt without this exercise's question
            continue
        variant, key = variant_of(owner)
        vex, trace = variant.sheet.exercises[k], variant.traces[k]
        columns = collected(vex.spec.id, key["exercises"][vex.spec.id], vex.spec)
        if columns:
            exercises.append(grade_exercise(vex, trace, columns, work.given, policy))
            codes.append(variant.code)
    if not codes and work.owners is None:  # nothing collected: the student's own code
        codes.append(variant_of(work.person)[0].code)
    code = " ".join(dict.fromkeys(codes))
    return StudentGrade(work.person.id, work.person.name, code, tuple(exercises))


def _key(vsheet: SheetDef, traces: list[Trace]) -> dict:
    """The values and the asks' answers of a variant's key (no worked steps)."""
    results = [work_asks(vsheet, ex, t) for ex, t in zip(vsheet.exercises, traces)]
    return key_document(vsheet, traces, results, steps=False)


def shares(ex: ExerciseDef, columns: list[Collected], policy: Policy) -> list[Fraction]:
    """Each collected number's points: the exercise's (1 a number when it gives none)
    spread evenly, or by the policy's weights (a column's own, else its collect entry's)."""
    total = Fraction(repr(ex.spec.points)) if ex.spec.points is not None else len(columns)
    weights = [_weight(c, policy) for c in columns]
    whole = sum(weights)
    return [total * w / whole for w in weights]


def _weight(c: Collected, policy: Policy) -> Fraction:
    for name in (c.column, *reversed(c.items), c.node):
        if name in policy.weights:
            return policy.weights[name]
    return Fraction(1)


def grade_exercise(
    ex: ExerciseDef,
    trace: Trace,
    columns: list[Collected],
    given: dict[str, Given],
    policy: Policy,
) -> ExerciseGrade:
    cells = [given.get(c.column, NOT_ANSWERED) for c in columns]
    first = [
        None if cell.value is None else judge(cell.value, c.shown, policy)
        for c, cell in zip(columns, cells)
    ]
    upstream = Upstream()
    for c, cell, verdict in zip(columns, cells, first):
        if c.node is not None and cell.value is not None and verdict != "right":
            value = cell.value / 10**c.scale  # what the engine's own numbers are
            upstream.add(c.node, c.flat, value, c.column, grad=c.grad)
    recompute = Recomputer(ex, trace, upstream) if policy.ecf and upstream else None
    grades = []
    for c, cell, verdict, most in zip(columns, cells, first, shares(ex, columns, policy)):
        grades.append(_graded(c, cell, verdict, most, policy, recompute))
    return ExerciseGrade(ex.spec.id, ex.spec.title, tuple(grades))


def _graded(
    c: Collected,
    cell: Given,
    verdict: str | None,
    most: Fraction,
    policy: Policy,
    recompute: Recomputer | None,
) -> AnswerGrade:
    given = cell.text.strip() or None
    if cell.problem:
        return AnswerGrade(c.column, given, c.shown, "wrong", Fraction(0), most, note=cell.problem)
    if cell.value is None:
        return AnswerGrade(c.column, None, c.shown, "missing", Fraction(0), most)
    if verdict == "right":
        return AnswerGrade(c.column, given, c.shown, "right", most, most)
    close = policy.last_digit * most if verdict == "close" and policy.last_digit else Fraction(0)
    carried = recompute.carried(c.node, c.grad, c.flat) if recompute and c.node else None
    if carried is not None and c.scale:
        carried = replace(carried, shown=scaled_shown(carried.shown, c.scale))
    if carried is not None and judge(cell.value, carried.shown, policy) == "right":
        if carried.trivial:
            return AnswerGrade(
                c.column,
                given,
                c.shown,
                "trivial",
                close,
                most,
                carried.follows_from,
                carried.shown,
                "your earlier values make " + ", ".join(carried.trivial) + " all zeros, "
                "which makes this answer trivial: no carried credit",
            )
        if policy.carried * most >= close:
            return AnswerGrade(
                c.column,
                given,
                c.shown,
                "carried",
                policy.carried * most,
                most,
                carried.follows_from,
                carried.shown,
            )
    if verdict == "close":
        return AnswerGrade(
            c.column, given, c.shown, "close", close, most, note="off by one in the last digit"
        )
    return AnswerGrade(c.column, given, c.shown, "wrong", Fraction(0), most)


def _check_weights(sheet: SheetDef, graded: StudentGrade) -> None:
    """Each weight names a column or collect entry of its exercise (of some exercise,
    for the sheet's)."""
    names: dict[str, set[str]] = {}
    for e in graded.exercises:
        ex = next(x for x in sheet.exercises if x.spec.id == e.exercise)
        key = names.setdefault(e.exercise, set())
        key.update(a.column for a in e.answers)
        key.update(ex.graph.nodes)
        key.update(("grads", *(f"grad.{n}" for n in ex.graph.nodes)))
    every = set().union(*names.values()) if names else set()
    for where, spec, known in [("grading", sheet.spec.grading, every)] + [
        (f"{ex.path}.grading", ex.spec.grading, names.get(ex.spec.id, set()))
        for ex in sheet.exercises
    ]:
        for name in (spec.weights or {}) if spec is not None else {}:
            if name not in known:
                raise sheet.error(
                    DefinitionError,
                    f"the weight '{name}' names no collected answer "
                    "(expected a column of answer-form.csv or a collect entry)",
                    f"{where}.weights.{name}",
                )

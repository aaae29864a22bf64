"""One student's feedback page, as the template reads it: per exercise each collected
number with what the student gave, what was expected, the verdict in words and the
points, and for carried credit the student's own earlier values it follows from."""

from __future__ import annotations

from dataclasses import dataclass

from exgen.grading.model import AnswerGrade, ExerciseGrade, StudentGrade
from exgen.grading.wording import VERDICT_WORDS, points, quantity


@dataclass(frozen=True)
class AnswerLine:
    quantity: str
    column: str
    given: str  # "—" when not answered
    expected: str
    verdict: str  # the model's name: the CSS class
    label: str
    points: str
    max_points: str
    follows_from: tuple[str, ...]  # typeset, in the feedback's words
    carried_expected: str
    note: str


@dataclass(frozen=True)
class ExerciseBlock:
    exercise: str
    title: str
    points: str
    max_points: str
    lines: tuple[AnswerLine, ...]


@dataclass(frozen=True)
class FeedbackPage:
    student: StudentGrade
    total: str
    max_total: str
    exercises: tuple[ExerciseBlock, ...]
    used: tuple[str, ...]  # the verdicts on this page, for the key of words under it


def feedback_page(student: StudentGrade) -> FeedbackPage:
    blocks = tuple(_block(e) for e in student.exercises)
    found = {a.verdict for e in student.exercises for a in e.answers}
    return FeedbackPage(
        student=student,
        total=points(student.total),
        max_total=points(student.max_total),
        exercises=blocks,
        used=tuple(v for v in VERDICT_WORDS if v in found),
    )


def _block(exercise: ExerciseGrade) -> ExerciseBlock:
    return ExerciseBlock(
        exercise=exercise.exercise,
        title=exercise.title,
        points=points(exercise.points),
        max_points=points(exercise.max_points),
        lines=tuple(_line(exercise.exercise, a) for a in exercise.answers),
    )


def _line(exercise: str, answer: AnswerGrade) -> AnswerLine:
    if answer.verdict in ("carried", "trivial") and not answer.follows_from:
        raise ValueError(
            f"{answer.column}: a {answer.verdict!r} verdict names the earlier values it follows from"
        )
    if answer.verdict == "carried" and answer.carried_expected is None:
        raise ValueError(
            f"{answer.column}: carried credit needs the value the student's own values lead to"
        )
    return AnswerLine(
        quantity=quantity(answer.column, exercise),
        column=answer.column,
        given=answer.given if answer.given is not None else "—",
        expected=answer.expected,
        verdict=answer.verdict,
        label=VERDICT_WORDS[answer.verdict].label,
        points=points(answer.points),
        max_points=points(answer.max_points),
        follows_from=tuple(_earlier(c, exercise) for c in answer.follows_from),
        carried_expected=answer.carried_expected or "",
        note=answer.note,
    )


def _earlier(column: str, exercise: str) -> str:
    """An earlier column: the quantity, with its exercise when it is another one."""
    head = column.split(" ", 1)[0]
    typeset = quantity(column, head)
    return typeset if head == exercise else f"{typeset} (exercise {head})"

"""What grading produces, shared by the graders (verdicts) and the reports (grades.csv,
feedback pages, the class summary): plain data, one home for each verdict's name."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

# right: rounds to (or is within the policy's tolerance of) the key's shown value;
# carried: wrong against the key, right against the engine re-run from the student's own
# earlier values (error carried forward); close: off by one in the last digit (partial
# credit where the policy gives it); wrong; missing: not answered; trivial: consistent
# only with earlier values that make the rest trivial (zeros, a dead layer), no credit
Verdict = Literal["right", "carried", "close", "wrong", "missing", "trivial"]
VERDICTS: tuple[Verdict, ...] = ("right", "carried", "close", "wrong", "missing", "trivial")


@dataclass(frozen=True)
class AnswerGrade:
    """One collected number of one student."""

    column: str  # as in answers.csv and answer-form.csv, e.g. "net dL/dW[1,2]"
    given: str | None  # what the student handed in, as written (None: not answered)
    expected: str  # the key's shown value for this student's variant
    verdict: Verdict
    points: Fraction  # awarded
    max_points: Fraction
    # carried: the student's own earlier answers (columns) the recomputation used;
    # trivial: those that made the rest trivial
    follows_from: tuple[str, ...] = ()
    carried_expected: str | None = None  # the value their own earlier values lead to
    note: str = ""  # a sentence for the feedback page, when the verdict needs one


@dataclass(frozen=True)
class ExerciseGrade:
    exercise: str  # the exercise id
    title: str
    answers: tuple[AnswerGrade, ...]

    @property
    def points(self) -> Fraction:
        return sum((a.points for a in self.answers), Fraction(0))

    @property
    def max_points(self) -> Fraction:
        return sum((a.max_points for a in self.answers), Fraction(0))


@dataclass(frozen=True)
class StudentGrade:
    id: str
    name: str
    code: str  # the variant's code, as on the student's sheet
    exercises: tuple[ExerciseGrade, ...] = field(default_factory=tuple)

    @property
    def total(self) -> Fraction:
        return sum((e.points for e in self.exercises), Fraction(0))

    @property
    def max_total(self) -> Fraction:
        return sum((e.max_points for e in self.exercises), Fraction(0))

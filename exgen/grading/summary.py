"""The class's results, computed from the grades: per collected number the count of each
verdict and the success rate (right, or right with the student's own earlier values),
per exercise the mean, median and spread of the points, and the totals."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from fractions import Fraction

from exgen.grading.model import VERDICTS, StudentGrade, Verdict
from exgen.grading.wording import VERDICT_WORDS, quantity


@dataclass(frozen=True)
class AnswerStats:
    exercise: str
    column: str
    quantity: str  # typeset, as the feedback shows it
    counts: dict[Verdict, int]  # every verdict, zeros included

    @property
    def students(self) -> int:
        return sum(self.counts.values())

    @property
    def successes(self) -> int:
        return sum(n for v, n in self.counts.items() if VERDICT_WORDS[v].earns)


@dataclass(frozen=True)
class Spread:
    """Points of one exercise (or the totals) over the class."""

    max_points: Fraction
    mean: Fraction
    median: Fraction
    low: Fraction
    high: Fraction
    full: int  # students with every point
    zero: int  # students with none

    @classmethod
    def of(cls, values: list[Fraction], max_points: Fraction) -> Spread:
        return cls(
            max_points=max_points,
            mean=statistics.mean(values),
            median=Fraction(statistics.median(values)),
            low=min(values),
            high=max(values),
            full=sum(v == max_points for v in values),
            zero=sum(v == 0 for v in values),
        )


@dataclass(frozen=True)
class ExerciseStats:
    exercise: str
    title: str
    spread: Spread
    answers: tuple[AnswerStats, ...]


@dataclass(frozen=True)
class ClassStats:
    students: int
    totals: tuple[Fraction, ...]
    total: Spread
    exercises: tuple[ExerciseStats, ...]


def class_stats(students: list[StudentGrade]) -> ClassStats:
    """The summary of a class. Every student must have the same exercises and columns,
    in the same order (one sheet, graded under one policy); anything else is an error,
    not a summary of whatever overlaps."""
    if not students:
        raise ValueError("no students to summarize")
    shape = _shape(students[0])
    for s in students[1:]:
        if _shape(s) != shape:
            raise ValueError(
                f"student {s.id!r} was graded on other exercises or columns than "
                f"student {students[0].id!r}"
            )
    exercises = []
    for i, first in enumerate(students[0].exercises):
        answers = []
        for j, answer in enumerate(first.answers):
            counts: dict[Verdict, int] = dict.fromkeys(VERDICTS, 0)
            for s in students:
                counts[s.exercises[i].answers[j].verdict] += 1
            answers.append(
                AnswerStats(
                    first.exercise, answer.column, quantity(answer.column, first.exercise), counts
                )
            )
        maxima = {s.exercises[i].max_points for s in students}
        if len(maxima) != 1:
            raise ValueError(
                f"exercise {first.exercise!r} is worth different points to different students"
            )
        exercises.append(
            ExerciseStats(
                first.exercise,
                first.title,
                Spread.of([s.exercises[i].points for s in students], first.max_points),
                tuple(answers),
            )
        )
    totals = tuple(s.total for s in students)
    return ClassStats(
        len(students), totals, Spread.of(list(totals), students[0].max_total), tuple(exercises)
    )


def _shape(student: StudentGrade) -> list[tuple[str, list[str]]]:
    return [(e.exercise, [a.column for a in e.answers]) for e in student.exercises]


@dataclass(frozen=True)
class Bin:
    low: Fraction
    high: Fraction
    count: int
    last: bool  # holds its upper edge too


def total_bins(totals: tuple[Fraction, ...], max_total: Fraction) -> tuple[Bin, ...]:
    """The histogram of the totals: bins one point wide when the maximum is a whole
    number up to 30, else ten of equal width; each holds its lower edge, the last its
    upper edge too (the students with every point)."""
    if max_total <= 0:
        raise ValueError("a sheet worth no points has no histogram")
    if max_total.denominator == 1 and max_total <= 30:
        edges = [Fraction(i) for i in range(int(max_total) + 1)]
    else:
        edges = [max_total * i / 10 for i in range(11)]
    bins = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        count = sum(low <= t < high or (last and t == high) for t in totals)
        bins.append(Bin(low, high, count, last))
    outside = len(totals) - sum(b.count for b in bins)
    if outside:
        raise ValueError(f"{outside} totals lie outside 0 to {max_total} points")
    return tuple(bins)

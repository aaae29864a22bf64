"""grades.csv (id, name, points per exercise, total) and grades.json (every answer of
every student, for the reports), and grades.json read back."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from exgen.build.csv_cells import csv_bytes
from exgen.define.load import SheetDef
from exgen.engine.rounding import round_half_up
from exgen.grading.model import AnswerGrade, ExerciseGrade, StudentGrade
from exgen.render.keyjson import dumps

POINT_DIGITS = 2  # grades.csv shows points to two decimals (grades.json keeps them exact)


def points_text(x: Fraction) -> str:
    """Points as a spreadsheet reads them: whole points as they are, others half-up to
    two decimals."""
    r = round_half_up(x, POINT_DIGITS)
    if x.denominator == 1:
        return str(x.numerator)
    return f"{float(r):.{POINT_DIGITS}f}"


def grades_csv(sheet: SheetDef, grades: list[StudentGrade]) -> bytes:
    exercises = [e.exercise for e in grades[0].exercises] if grades else []
    return csv_bytes(
        [
            ["id", "name", *exercises, "total"],
            *(
                [g.id, g.name, *(points_text(e.points) for e in g.exercises), points_text(g.total)]
                for g in grades
            ),
        ]
    )


def grades_json(sheet_name: str, grades: list[StudentGrade], problems: list[str]) -> bytes:
    """Every StudentGrade with every AnswerGrade; Fractions as strings ("3/2")."""
    return dumps(
        {
            "sheet": sheet_name,
            "unreadable": problems,
            "students": [_student(g) for g in grades],
        },
        depth=6,
    ).encode()


def _student(g: StudentGrade) -> dict:
    return {
        "id": g.id,
        "name": g.name,
        "code": g.code,
        "total": str(g.total),
        "max_total": str(g.max_total),
        "exercises": [
            {
                "exercise": e.exercise,
                "title": e.title,
                "points": str(e.points),
                "max_points": str(e.max_points),
                "answers": [_answer(a) for a in e.answers],
            }
            for e in g.exercises
        ],
    }


def _answer(a: AnswerGrade) -> dict:
    # field by field (dataclasses.asdict deep-copies every value: a fifth of a class's
    # grading time), in the model's own order
    out = {f.name: getattr(a, f.name) for f in dataclasses.fields(a)}
    out.update(
        points=str(a.points), max_points=str(a.max_points), follows_from=list(a.follows_from)
    )
    return out


def grades_from_json(document: dict) -> list[StudentGrade]:
    """grades.json's students read back as the model (what the reports take)."""
    return [
        StudentGrade(
            s["id"],
            s["name"],
            s["code"],
            tuple(
                ExerciseGrade(
                    e["exercise"],
                    e["title"],
                    tuple(
                        AnswerGrade(
                            **{
                                **a,
                                "points": Fraction(a["points"]),
                                "max_points": Fraction(a["max_points"]),
                                "follows_from": tuple(a["follows_from"]),
                            }
                        )
                        for a in e["answers"]
                    ),
                )
                for e in s["exercises"]
            ),
        )
        for s in document["students"]
    ]

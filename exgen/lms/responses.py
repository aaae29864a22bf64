"""What a platform's responses report gives grading: one attempt per row, each exercise's
variant (the code its question's text names) and the numbers given in its slots, under
the columns of answer-form.csv — so that grading treats them as it treats that form."""

from __future__ import annotations

from dataclasses import dataclass, field

from exgen.errors import AnswersError
from exgen.grading.answers_csv import Given


@dataclass(frozen=True)
class Layout:
    """What a reader needs to know of the class's questions."""

    columns: dict[str, list[str]]  # exercise id -> its collected columns, in slot order
    codes: frozenset[str]  # the variant codes of the class


@dataclass
class Attempt:
    person: str  # who, as the platform names them: e-mail, login or name (grades' id)
    name: str  # their name for the feedback pages ("" when the report has none)
    row: int  # the attempt's 1-based line in its file
    source: str  # the file, as the user named it
    # exercise id -> (variant code, column -> the number given in that slot)
    exercises: dict[str, tuple[str, dict[str, Given]]] = field(default_factory=dict)


@dataclass
class Responses:
    attempts: list[Attempt] = field(default_factory=list)
    problems: list[AnswersError] = field(default_factory=list)  # --lenient: left ungraded

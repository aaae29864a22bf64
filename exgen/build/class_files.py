"""A class's own files — answers.csv, answer-form.csv, manifest.json and the graders' booklet keys.pdf —
written from each student's answers row, manifest entry and key.pdf on disk. A one-machine
build and a merge of shards both write them here, so they come out byte for byte alike."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from exgen import __version__
from exgen.build.booklet import write_booklet
from exgen.build.csv_cells import csv_bytes
from exgen.build.single import write_files
from exgen.render.keyjson import dumps

BOOKLET = "keys.pdf"
ANSWER_FORM = "answer-form.csv"


@dataclass
class StudentRecord:
    """What the class files need of one student: its manifest entry (id, name, seed,
    code, drawn values, redraws) and its answers row (column -> shown string)."""

    manifest: dict
    answers: dict[str, str]
    form: tuple[str, ...]  # the collected columns, as answer-form.csv heads them

    @property
    def id(self) -> str:
        return self.manifest["id"]


def secret_fingerprint(secret: str) -> str:
    """Which secret, without giving it away (it would let anyone redraw any variant)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def definition_fingerprint(definition: Path) -> str:
    """Which version of the definition a class was built from (exgen export reuses the
    build's keys only for the same one)."""
    return hashlib.sha256(definition.read_bytes()).hexdigest()[:16]


def write_class_files(
    staging: Path,
    sheet_name: str,
    definition: str,
    fingerprint: str,
    students: list[StudentRecord],
    pdf: bool,
) -> None:
    """answers.csv, answer-form.csv, manifest.json and (with PDFs) the booklet from the keys under
    ``staging/variants/ID/key.pdf``, in the order of ``students``."""
    write_files(
        staging,
        {
            "answers.csv": answers_csv(students),
            ANSWER_FORM: answer_form_csv(students),
            "manifest.json": dumps(
                {
                    "sheet": sheet_name,
                    "exgen": __version__,
                    "definition": definition,
                    "secret_fingerprint": fingerprint,
                    "students": [s.manifest for s in students],
                }
            ).encode(),
        },
    )
    if pdf:
        write_booklet(
            [staging / "variants" / s.id / "key.pdf" for s in students], staging / BOOKLET
        )


def answers_csv(students: list[StudentRecord]) -> bytes:
    columns: list[str] = []
    for s in students:
        columns += [c for c in s.answers if c not in columns]
    return csv_bytes(
        [
            ["id", "name", *columns],
            *(
                [s.id, s.manifest["name"], *(s.answers.get(c, "") for c in columns)]
                for s in students
            ),
        ]
    )


def answer_form_csv(students: list[StudentRecord]) -> bytes:
    """What the students hand in: id, name and one empty cell per collected number."""
    columns: list[str] = []
    for s in students:
        columns += [c for c in s.form if c not in columns]
    return csv_bytes(
        [
            ["id", "name", *columns],
            *([s.id, s.manifest["name"]] + [""] * len(columns) for s in students),
        ]
    )

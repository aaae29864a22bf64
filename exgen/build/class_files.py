"""A class's own files — answers.csv, manifest.json and the graders' booklet keys.pdf —
written from each student's answers row, manifest entry and key.pdf on disk. A one-machine
build and a merge of shards both write them here, so they come out byte for byte alike."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from exgen import __version__
from exgen.build.csv_cells import csv_bytes
from exgen.build.single import write_files
from exgen.render.keyjson import dumps

BOOKLET = "keys.pdf"
BOOKLET_TITLE = "Solution keys"
# keys joined at once: qpdf keeps each source file open until the booklet is written, so
# a larger class is joined in parts first (the open files stay well under any ulimit)
_KEYS_AT_ONCE = 200


@dataclass
class StudentRecord:
    """What the class files need of one student: its manifest entry (id, name, seed,
    code, drawn values, redraws) and its answers row (column -> shown string)."""

    manifest: dict
    answers: dict[str, str]

    @property
    def id(self) -> str:
        return self.manifest["id"]


def secret_fingerprint(secret: str) -> str:
    """Which secret, without giving it away (it would let anyone redraw any variant)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def write_class_files(
    staging: Path, sheet_name: str, fingerprint: str, students: list[StudentRecord], pdf: bool
) -> None:
    """answers.csv, manifest.json and (with PDFs) the booklet from the keys under
    ``staging/variants/ID/key.pdf``, in the order of ``students``."""
    write_files(
        staging,
        {
            "answers.csv": answers_csv(students),
            "manifest.json": dumps(
                {
                    "sheet": sheet_name,
                    "exgen": __version__,
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


def write_booklet(keys: list[Path], target: Path, level: int = 0) -> None:
    """All keys in one PDF, in the order given; each key starts on a new page. Written
    straight from the key files to ``target``: qpdf reads each key's page streams as it
    writes them, so memory holds the page objects, not the class's PDFs."""
    if len(keys) <= _KEYS_AT_ONCE:
        _join(keys, target)
        return
    parts = []
    for start in range(0, len(keys), _KEYS_AT_ONCE):
        part = target.with_name(f".{target.name}.part{level}-{len(parts)}")
        _join(keys[start : start + _KEYS_AT_ONCE], part)
        parts.append(part)
    write_booklet(parts, target, level + 1)
    for part in parts:
        part.unlink()


def _join(pdfs: list[Path], target: Path) -> None:
    import pikepdf  # qpdf: joins a class set in a fraction of a second

    out = pikepdf.Pdf.new()
    sources = []
    try:
        for path in pdfs:
            source = pikepdf.Pdf.open(path, access_mode=pikepdf.AccessMode.stream)
            sources.append(source)
            out.pages.extend(source.pages)
        with out.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = BOOKLET_TITLE
        out.docinfo["/Title"] = BOOKLET_TITLE
        out.docinfo["/Producer"] = f"exgen {__version__}"
        out.save(target, deterministic_id=True)  # the same class gives the same bytes
    finally:
        out.close()
        for source in sources:
            source.close()

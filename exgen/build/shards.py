"""Shards of a class build: `--shard K/N` builds every N-th student from the K-th into
``out/NAME/shards/K-of-N/``, with a record of what a merge needs and what it checks
(which class, which secret — by fingerprint only — and which students)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path

from exgen import __version__
from exgen.build.class_files import StudentRecord, definition_fingerprint
from exgen.build.output_folder import MARKER, MARKER_TEXT, is_exgen_folder
from exgen.build.variants import Student
from exgen.errors import ArgumentError, OutputError

SHARDS = "shards"  # under out/NAME
SHARD_RECORD = "shard.json"
SHARD_FOLDER = re.compile(r"([1-9][0-9]{0,5})-of-([1-9][0-9]{0,5})")
SHARD_OPTION = re.compile(r"\s*([0-9]{1,6})\s*/\s*([0-9]{1,6})\s*")
SHARD_RULE = "--shard takes K/N, two whole numbers with 1 ≤ K ≤ N (e.g. --shard 2/8)"
# what makes two shards parts of one class, and how a message names each difference
CLASS_FIELDS = {
    "sheet": "another sheet",
    "definition": "another version of the definition",
    "roster": "another roster or --variants",
    "pdf": "one built with PDFs, the other with --no-pdf",
    "exgen": "another exgen version",
}


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` as (K, N); anything else, or K outside 1…N, is refused."""
    match = SHARD_OPTION.fullmatch(text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise ArgumentError(f"{SHARD_RULE}; got {text!r}")
    return int(match[1]), int(match[2])


def shard_name(k: int, n: int) -> str:
    return f"{k}-of-{n}"


def shard_students(students: list[Student], k: int, n: int) -> list[tuple[int, Student]]:
    """Every n-th student from the k-th, with its place in the class (0-based)."""
    return list(enumerate(students))[k - 1 :: n]


def class_identity(sheet_name: str, definition: Path, students: list[Student], pdf: bool) -> dict:
    """What every shard of one class shares (hashes: the record stays small)."""
    roster = json.dumps([[s.id, s.name] for s in students], ensure_ascii=False)
    return {
        "sheet": sheet_name,
        "definition": definition_fingerprint(definition),
        "roster": hashlib.sha256(roster.encode()).hexdigest()[:16],
        "pdf": pdf,
        "exgen": __version__,
    }


def shard_record(
    identity: dict, fingerprint: str, k: int, n: int, count: int, students: list
) -> bytes:
    """``students``: (place in the class, StudentRecord) pairs."""
    return (
        json.dumps(
            {
                "class": identity,
                "secret_fingerprint": fingerprint,
                "shard": {"k": k, "n": n},
                "class_size": count,
                "students": [
                    {
                        "place": place,
                        "manifest": r.manifest,
                        "answers": r.answers,
                        "form": list(r.form),
                    }
                    for place, r in students
                ],
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    ).encode()


def read_record(folder: Path) -> dict:
    with open(folder / SHARD_RECORD, encoding="utf-8") as f:
        return json.load(f)


def records_of(record: dict) -> list[tuple[int, StudentRecord]]:
    return [
        (s["place"], StudentRecord(s["manifest"], s["answers"], tuple(s["form"])))
        for s in record["students"]
    ]


@contextlib.contextmanager
def class_folder_claimed(target: Path):
    """Shards live inside the class's own folder ``target``: mark it as exgen's when it
    does not exist yet (several machines may do so at once) or when it holds nothing but
    shards (copied in by a job runner); on failure a folder made here goes again."""
    made = False
    if not os.path.lexists(target):
        with contextlib.suppress(FileExistsError):
            target.mkdir(parents=True)
            made = True
    if not is_exgen_folder(target) and os.path.isdir(target) and not os.path.islink(target):
        if set(os.listdir(target)) <= {SHARDS}:
            _mark(target)
    try:
        yield
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                if os.listdir(target) == [MARKER]:
                    (target / MARKER).unlink()
                    target.rmdir()
        raise


def _mark(folder: Path) -> None:
    try:
        fd = os.open(folder / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    try:
        os.write(fd, MARKER_TEXT)
    finally:
        os.close(fd)

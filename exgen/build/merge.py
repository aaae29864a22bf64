"""`exgen merge NAME`: join the shard folders under ``out/NAME/shards/`` into the class
``out/NAME/`` — the same files, byte for byte, as one machine building the whole class.
Nothing is rendered again: the students' folders are linked (or copied) and the class's
own files written from the shards' records, in a staging folder swapped in at the end."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from exgen.build.class_files import write_class_files
from exgen.build.output_folder import (
    NAME_RULE,
    is_exgen_folder,
    is_plain_name,
    quoted,
    write_folder,
)
from exgen.build.shards import (
    CLASS_FIELDS,
    SHARD_FOLDER,
    SHARD_RECORD,
    SHARDS,
    class_folder_claimed,
    read_record,
    records_of,
    shard_name,
)
from exgen.errors import ArgumentError, ShardError


def merge_class(
    name: str, out_dir: Path, progress: Callable[[str], None] = lambda step: None
) -> tuple[Path, int, int]:
    """Merge ``out_dir/NAME/shards/*`` into ``out_dir/NAME``; (the class folder, the
    number of shards, the number of students)."""
    if not is_plain_name(name):
        raise ArgumentError(f"the sheet name {quoted(name)} must be {NAME_RULE}")
    target = out_dir / name
    shards = _shard_folders(target / SHARDS)
    progress("checking the shards")
    records = {k: _read(folder, k, n) for (k, n), folder in shards.items()}
    first_k = min(records)
    first = records[first_k]
    for k, record in sorted(records.items()):
        _same_class(
            first,
            shard_name(first_k, first["shard"]["n"]),
            record,
            shard_name(k, record["shard"]["n"]),
        )
    students = _in_class_order(shards, records, first["class_size"])
    for (k, n), folder in shards.items():
        for _, r in records_of(records[k]):
            if not is_exgen_folder(folder / "variants" / r.id):
                raise ShardError(f"shard {shard_name(k, n)} has no folder for student {r.id}")

    def fill(staging: Path) -> None:
        variants = staging / "variants"
        variants.mkdir()
        for i, (folder, record) in enumerate(students, start=1):
            progress(f"student {i} of {len(students)}")
            shutil.copytree(
                folder / "variants" / record.id, variants / record.id, copy_function=_link
            )
        progress("writing the booklet and the tables")
        write_class_files(
            staging,
            first["class"]["sheet"],
            first["class"]["definition"],
            first["secret_fingerprint"],
            [r for _, r in students],
            first["class"]["pdf"],
        )

    with class_folder_claimed(target):
        write_folder(target, fill)  # the shards go with the old folder once the class is in
    return target, len(shards), len(students)


def _shard_folders(folder: Path) -> dict[tuple[int, int], Path]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    shards = {}
    for entry in names:
        if entry.startswith("."):  # a shard build's staging folder: not a shard yet
            continue
        match = SHARD_FOLDER.fullmatch(entry)
        if match is None or not is_exgen_folder(folder / entry):
            raise ShardError(
                f"{folder / entry}: not a shard folder (K-of-N, made by exgen build --shard)"
            )
        shards[int(match[1]), int(match[2])] = folder / entry
    if not shards:
        raise ShardError(f"{folder}: no shards to merge; build them with exgen build … --shard K/N")
    counts = sorted({n for _, n in shards})
    if len(counts) > 1:
        raise ShardError(
            f"the shards disagree on N: {', '.join(shard_name(k, n) for k, n in sorted(shards, key=lambda s: s[::-1]))}"
        )
    n = counts[0]
    missing = [shard_name(k, n) for k in range(1, n + 1) if (k, n) not in shards]
    if missing:
        raise ShardError(
            f"shard {missing[0]} is missing"
            if len(missing) == 1
            else f"shards {', '.join(missing[:-1])} and {missing[-1]} are missing"
        )
    stray = [shard_name(k, n) for k, _ in shards if k > n]
    if stray:
        raise ShardError(f"shard {stray[0]} cannot be: K is at most N")
    return shards


def _read(folder: Path, k: int, n: int) -> dict:
    try:
        record = read_record(folder)
        shard = record["shard"]["k"], record["shard"]["n"]
        records_of(record)  # every student's entry whole (a shard of an older exgen lacks one)
    except (OSError, ValueError, KeyError, TypeError):
        raise ShardError(
            f"{folder / SHARD_RECORD}: missing or unreadable; build the shard again"
        ) from None
    if shard != (k, n):
        raise ShardError(f"shard {shard_name(*shard)} is duplicated: a copy of it is in {folder}")
    return record


def _same_class(first: dict, first_name: str, other: dict, other_name: str) -> None:
    for field, why in CLASS_FIELDS.items():
        if first["class"].get(field) != other["class"].get(field):
            raise ShardError(
                f"shard {other_name} is from another class than shard {first_name} ({why})"
            )
    if first["secret_fingerprint"] != other["secret_fingerprint"]:
        raise ShardError(
            f"shard {other_name} was built with another secret than shard {first_name} "
            f"(secret fingerprint {other['secret_fingerprint']}, not {first['secret_fingerprint']})"
        )


def _in_class_order(shards: dict, records: dict, size: int) -> list:
    """(shard folder, StudentRecord) in roster order: every place of the class once."""
    by_place = {}
    for (k, n), folder in shards.items():
        held = records_of(records[k])
        if [place for place, _ in held] != list(range(k - 1, size, n)):
            raise ShardError(
                f"shard {shard_name(k, n)} does not hold the students of shard {k} of {n}; "
                "build it again"
            )
        by_place.update((place, (folder, student)) for place, student in held)
    return [by_place[place] for place in range(size)]


def _link(source: str, destination: str) -> None:
    """The same bytes without copying them where the file system allows it."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)

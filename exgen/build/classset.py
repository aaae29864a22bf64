"""A class set: one sheet and key per student, the graders' booklet, the answer table
and the manifest — solved and rendered on all cores, written in one swap."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from exgen.asks.collect import form_columns
from exgen.asks.registry import answer_columns
from exgen.build.class_files import (
    StudentRecord,
    definition_fingerprint,
    secret_fingerprint,
    write_class_files,
)
from exgen.build.output_folder import MARKER, MARKER_TEXT, is_exgen_folder, write_folder
from exgen.build.roster import check_student_id, numbered, pick_student  # noqa: F401 (numbered: for exgen.check)
from exgen.build.shards import (
    SHARD_RECORD,
    SHARDS,
    class_folder_claimed,
    class_identity,
    shard_name,
    shard_record,
    shard_students,
)
from exgen.build.single import sheet_target, solve_exercise, work_asks, write_files
from exgen.build.variants import (
    Student,
    class_secret,
    make_variant,
    rules_for,
    variant_rules_block,
)
from exgen.define.load import SheetDef, load_sheet, resolve
from exgen.engine.rounding import decimal_mark, marked, shown_array
from exgen.errors import ExgenError
from exgen.notebooks.notebook import notebook_files
from exgen.render.documents import render, warm
from exgen.render.keyjson import dumps, key_document


@dataclass
class StudentOutput:
    student: Student
    folder: Path  # where its files were written (in the staging folder)
    answers: dict[str, str]  # column -> shown string
    manifest: dict
    form: tuple[str, ...]  # the collected columns (answer-form.csv)

    @property
    def record(self) -> StudentRecord:
        return StudentRecord(self.manifest, self.answers, self.form)


_SHEET: SheetDef | None = None  # set before the workers fork: they inherit it
_SECRET: str | None = None
_PDF = True
_VARIANTS: Path | None = None  # workers write each student's files straight in here
_DOCS_SIDE_BY_SIDE = False  # one student at a time: its two PDFs on two cores


def _one(student: Student) -> StudentOutput:
    sheet, pdf = _SHEET, _PDF
    variant = make_variant(sheet, student, _SECRET)
    vsheet, traces = variant.sheet, variant.traces
    results = [work_asks(vsheet, ex, t) for ex, t in zip(vsheet.exercises, traces)]
    label = " · ".join(p for p in (student.name, student.id, f"variant {variant.code}") if p)
    docs = render(vsheet, traces, results, student=label)
    key = key_document(vsheet, traces, results, student=student.id, seed=variant.seed)
    files = {
        MARKER: MARKER_TEXT,
        "sheet.html": docs.sheet_html.encode(),
        "key.html": docs.key_html.encode(),
        "key.json": dumps(key).encode(),
    }
    files.update(notebook_files(vsheet, traces, seed=variant.seed, student=label))
    if pdf:
        from exgen.render.pdf import html_to_pdf, html_to_pdfs

        if _DOCS_SIDE_BY_SIDE:  # fewer students than cores: the key beside the sheet
            files["key.pdf"], files["sheet.pdf"] = html_to_pdfs([docs.key_html, docs.sheet_html])
        else:
            files["sheet.pdf"] = html_to_pdf(docs.sheet_html)
            files["key.pdf"] = html_to_pdf(docs.key_html)
    folder = _VARIANTS / student.id
    folder.mkdir()  # not its parents: a staging folder removed on an interrupt stays removed
    write_files(folder, files)
    manifest = {
        "id": student.id,
        "name": student.name,
        "seed": variant.seed,
        "code": variant.code,
        "drawn": {
            ex: {n: shown_array(v, 6, given=True).tolist() for n, v in d.items()}
            for ex, d in variant.drawn.items()
        },
        "redraws": dict(variant.redraws),
    }
    form = tuple(form_columns(key, {ex.spec.id: ex.spec for ex in vsheet.exercises}))
    return StudentOutput(student, folder, answer_row(key, vsheet.spec.decimal), manifest, form)


def answer_row(key: dict, mark: str = ".") -> dict[str, str]:
    """The final answers of a key, as its asks name them (asks/registry.py), with the
    sheet's decimal mark."""
    with decimal_mark(mark):
        return {column: marked(text) for column, text in answer_columns(key).items()}


def build_class(
    name_or_path: str,
    out_dir: Path,
    students: list[Student] | None,
    pdf: bool = True,
    jobs: int | None = None,
    secret: str | None = None,
    only: str | None = None,
    source: str = "",
    progress: Callable[[str], None] = lambda step: None,
    shard: tuple[int, int] | None = None,
) -> Path:
    """Build every student's variant into ``out_dir/NAME``, or with ``only`` one student's
    into ``out_dir/NAME/variants/ID``, or with ``shard`` (K, N) every N-th student from
    the K-th into ``out_dir/NAME/shards/K-of-N`` (``students`` None: the class of the
    earlier build, from its manifest; ``source`` names where the students came from)."""
    if only is not None:
        check_student_id(only)
    sheet = load_sheet(name_or_path)
    variant_rules_block(sheet)  # refused before anything is written
    target = sheet_target(sheet, out_dir)
    if only is not None:
        students = [pick_student(only, students, source, target)]
    for ex in sheet.exercises:  # the same for every student: an error reads as in `exgen build`
        if not rules_for(sheet, ex):
            solve_exercise(sheet, ex)

    fingerprint = secret_fingerprint(class_secret(sheet, secret))
    definition = definition_fingerprint(Path(sheet.source))

    def fill(
        staging: Path, class_files: bool = True, alone: bool = False, chosen=None
    ) -> list[StudentOutput]:
        global _SHEET, _SECRET, _PDF, _VARIANTS
        _SHEET, _SECRET, _PDF, _VARIANTS = sheet, secret, pdf, staging / "variants"
        _VARIANTS.mkdir()
        outputs = _run(sheet, students if chosen is None else chosen, pdf, jobs, progress)
        if class_files:
            progress("writing the booklet and the tables")
            records = [o.record for o in outputs]
            write_class_files(staging, sheet.name, definition, fingerprint, records, pdf)
        if alone:  # the student's own folder is the output
            for item in outputs[0].folder.iterdir():
                if item.name == MARKER:  # the staging folder's own marker stays (it is locked)
                    item.unlink()
                else:
                    os.replace(item, staging / item.name)
            outputs[0].folder.rmdir()
            _VARIANTS.rmdir()
        return outputs

    if shard is not None:
        k, n = shard
        identity = class_identity(sheet.name, resolve(name_or_path, Path.cwd())[1], students, pdf)
        places = shard_students(students, k, n)

        def fill_shard(staging: Path) -> None:
            outputs = fill(staging, class_files=False, chosen=[s for _, s in places])
            records = [(p, o.record) for (p, _), o in zip(places, outputs)]
            record = shard_record(identity, fingerprint, k, n, len(students), records)
            write_files(staging, {SHARD_RECORD: record})

        final = target / SHARDS / shard_name(k, n)
        with class_folder_claimed(target):
            write_folder(final, fill_shard)
        return final
    if only is None:
        write_folder(target, fill)
        return target
    if not is_exgen_folder(target):  # no class output yet: the student's folder in a new one
        write_folder(target, lambda staging: fill(staging, class_files=False))
        return target / "variants" / only
    final = target / "variants" / only
    write_folder(final, lambda staging: fill(staging, class_files=False, alone=True))
    return final


def _run(
    sheet: SheetDef, students: list[Student], pdf: bool, jobs: int | None, progress
) -> list[StudentOutput]:
    # the first student takes longest (everything loads once, here): say so from the start
    progress(f"preparing templates, figures and fonts for {len(students)} students")
    if pdf:  # load and start WeasyPrint once, here: the workers inherit it ready
        from exgen.render.pdf import html_to_pdf

        html_to_pdf("<p>exgen</p>")
    warm(sheet)  # templates, figures and fonts once, here: the workers inherit them
    count = _Counted(len(students), progress)
    global _DOCS_SIDE_BY_SIDE
    cores = jobs or os.cpu_count() or 1
    jobs = max(1, min(cores, len(students)))
    _DOCS_SIDE_BY_SIDE = jobs == 1 and cores > 1
    if jobs == 1:
        outputs = []
        for out in map(_one, students):
            outputs.append(out)
            count()
        return outputs
    gc.freeze()  # keep the inherited heap shared: no copy-on-write from the collector
    # the workers start with SIGINT and SIGTERM held back, until they ignore the one and
    # die of the other; the pool's threads keep them held, so they reach this thread
    held = _hold_signals(signal.SIG_BLOCK)
    pool, outputs = None, []
    try:
        pool = ProcessPoolExecutor(
            jobs, mp_context=get_context("fork"), initializer=_worker_start, initargs=(os.getpid(),)
        )
        results = pool.map(
            _one_picklable, students, chunksize=max(1, min(4, len(students) // (4 * jobs)))
        )
        _hold_signals(signal.SIG_SETMASK, held)  # from here on Ctrl-C reaches this thread
        for out in results:
            outputs.append(out)
            count()
    except BaseException:
        if pool is not None:
            _stop_workers(pool)  # an error or an interrupt: nothing more to wait for
        raise
    finally:
        _hold_signals(signal.SIG_BLOCK)  # the workers are gone before anything else happens
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _hold_signals(signal.SIG_SETMASK, held)
    return outputs


class _Counted:
    """The class's progress: "student 0 of 40" at once, then each one done, with the time
    left once a few are (from their pace)."""

    def __init__(self, total: int, progress: Callable[[str], None]):
        self.total, self.done, self.progress = total, 0, progress
        self.start = time.perf_counter()
        progress(f"student 0 of {total}")

    def __call__(self) -> None:
        self.done += 1
        left = ""
        if 3 <= self.done < self.total:
            pace = (time.perf_counter() - self.start) / self.done
            left = f", about {_duration(pace * (self.total - self.done))} left"
        self.progress(f"student {self.done} of {self.total}{left}")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _hold_signals(how, mask=(signal.SIGINT, signal.SIGTERM)):
    if hasattr(signal, "pthread_sigmask"):
        return signal.pthread_sigmask(how, mask)
    return set()


def _worker_start(parent: int) -> None:
    """A worker ignores Ctrl-C (the parent decides), dies of SIGTERM, and ends with its
    parent even when that is killed outright."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _hold_signals(signal.SIG_UNBLOCK)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # elsewhere: the parent stops its workers whenever it can
    if os.getppid() != parent:  # the parent was gone before the line above
        os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    if hasattr(pool, "terminate_workers"):  # Python 3.14+
        pool.terminate_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, AttributeError, ValueError):
            process.terminate()


def _one_picklable(student: Student) -> StudentOutput:
    """_one, with an error the parent can unpickle: a stray exception type whose
    constructor takes other arguments would break the whole pool instead."""
    try:
        return _one(student)
    except ExgenError:
        raise
    except Exception as exc:
        import pickle
        import traceback

        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # whatever breaks pickling: the message must get through
            raise RuntimeError(
                "in the worker for student " + student.id + ":\n" + traceback.format_exc()
            ) from None
        raise

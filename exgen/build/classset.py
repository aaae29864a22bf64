"""A class set: one sheet and key per student, the graders' booklet, the answer table
and the manifest — solved and rendered on all cores, written in one swap."""
from __future__ import annotations

import csv
import hashlib
import gc
import io
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from collections.abc import Callable

from exgen import __version__
from exgen.asks.registry import answer_columns, results_for
from exgen.build.single import staging_folder, swap_in, write_files
from exgen.define.load import SheetDef, load_sheet
from exgen.errors import DefinitionError
from exgen.render.keyjson import dumps, key_document
from exgen.engine.rounding import shown_array
from exgen.render.documents import render, warm
from exgen.typeset.notation import Notation
from exgen.build.variants import Student, make_variant

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class StudentOutput:
    student: Student
    folder: Path                     # where its files were written (in the staging folder)
    answers: dict[str, str]          # column -> shown string
    manifest: dict


def numbered(count: int) -> list[Student]:
    width = max(3, len(str(count)))
    return [Student(f"{i:0{width}d}") for i in range(1, count + 1)]


def read_roster(path: str) -> list[Student]:
    """Students from a UTF-8 CSV with an `id` column and an optional `name` column."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise DefinitionError("no such roster file", path) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"the roster is not UTF-8 (byte {exc.start})", path) from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "id" not in fields:
        raise DefinitionError(f"expected an 'id' column, found columns: {', '.join(fields) or 'none'}",
                              path, line=1)
    reader.fieldnames = fields
    students, seen = [], {}
    for line, row in enumerate(reader, start=2):
        ident = (row.get("id") or "").strip()
        if not ID_PATTERN.fullmatch(ident):
            raise DefinitionError(f"student id {ident!r} must be 1–64 letters, digits, '.', '_' or "
                                  f"'-' (it names the student's folder)", path, line=line)
        if ident in seen:
            raise DefinitionError(f"student id {ident!r} appears twice (also line {seen[ident]})",
                                  path, line=line)
        seen[ident] = line
        students.append(Student(ident, (row.get("name") or "").strip()))
    if not students:
        raise DefinitionError("the roster lists no students", path)
    return students


_SHEET: SheetDef | None = None     # set before the workers fork: they inherit it
_SECRET: str | None = None
_PDF = True
_STAGING: Path | None = None       # workers write each student's files straight in here
_DOCS_SIDE_BY_SIDE = False         # one student at a time: its two PDFs on two cores


def _one(student: Student) -> StudentOutput:
    sheet, pdf = _SHEET, _PDF
    variant = make_variant(sheet, student, _SECRET)
    vsheet, traces = variant.sheet, variant.traces
    results = [results_for(ex, t, Notation.of(t.graph, vsheet.spec.notation))
               for ex, t in zip(vsheet.exercises, traces)]
    label = " · ".join(p for p in (student.name, student.id, f"variant {variant.code}") if p)
    docs = render(vsheet, traces, results, student=label)
    key = key_document(vsheet, traces, results, student=student.id, seed=variant.seed)
    files = {"sheet.html": docs.sheet_html.encode(), "key.html": docs.key_html.encode(),
             "key.json": dumps(key).encode()}
    if pdf:
        from exgen.render.pdf import html_to_pdf, html_to_pdfs
        if _DOCS_SIDE_BY_SIDE:  # fewer students than cores: the key beside the sheet
            files["key.pdf"], files["sheet.pdf"] = html_to_pdfs([docs.key_html, docs.sheet_html])
        else:
            files["sheet.pdf"] = html_to_pdf(docs.sheet_html)
            files["key.pdf"] = html_to_pdf(docs.key_html)
    folder = _STAGING / "variants" / student.id
    write_files(folder, files)
    manifest = {"id": student.id, "name": student.name, "seed": variant.seed, "code": variant.code,
                "drawn": {ex: {n: shown_array(v, 6, given=True).tolist() for n, v in d.items()}
                          for ex, d in variant.drawn.items()},
                "redraws": dict(variant.redraws)}
    return StudentOutput(student, folder, answer_row(key), manifest)


def answer_row(key: dict) -> dict[str, str]:
    """The final answers of a key, as its asks name them (asks/registry.py)."""
    return answer_columns(key)


def build_class(name_or_path: str, out_dir: Path, students: list[Student], pdf: bool = True,
                jobs: int | None = None, secret: str | None = None, only: str | None = None,
                progress: Callable[[str], None] = lambda step: None) -> Path:
    global _SHEET, _SECRET, _PDF, _STAGING
    sheet = load_sheet(name_or_path)
    if sheet.spec.variants is None:
        raise DefinitionError("no variants block: add one (seed, draw, require) to build "
                              "per-student variants", sheet.source, "variants")
    if only is not None:
        students = [s for s in students if s.id == only] or [Student(only)]
    target = Path(out_dir) / sheet.name
    final = target / "variants" / only if only is not None else target
    _SHEET, _SECRET, _PDF, _STAGING = sheet, secret, pdf, staging_folder(final)
    try:
        outputs = _run(sheet, students, pdf, jobs, progress)
        if only is None:
            progress("writing the booklet and the tables")
            _class_files(sheet, outputs, secret, pdf)
        else:  # one student alone: its own folder is the output
            for item in (outputs[0].folder).iterdir():
                os.replace(item, _STAGING / item.name)
            shutil.rmtree(_STAGING / "variants")
    except BaseException:
        shutil.rmtree(_STAGING, ignore_errors=True)
        raise
    swap_in(_STAGING, final)
    return final


def _run(sheet: SheetDef, students: list[Student], pdf: bool, jobs: int | None,
         progress) -> list[StudentOutput]:
    if pdf:  # load and start WeasyPrint once, here: the workers inherit it ready
        from exgen.render.pdf import html_to_pdf
        html_to_pdf("<p>exgen</p>")
    warm(sheet)  # templates, figures and fonts once, here: the workers inherit them
    global _DOCS_SIDE_BY_SIDE
    cores = jobs or os.cpu_count() or 1
    jobs = max(1, min(cores, len(students)))
    _DOCS_SIDE_BY_SIDE = jobs == 1 and cores > 1
    outputs: list[StudentOutput] = []
    if jobs == 1:
        results = map(_one, students)
    else:
        gc.freeze()  # keep the inherited heap shared: no copy-on-write from the collector
        pool = ProcessPoolExecutor(jobs, mp_context=get_context("fork"))
        results = pool.map(_one, students, chunksize=max(1, min(4, len(students) // (4 * jobs))))
    try:
        for i, out in enumerate(results, start=1):
            outputs.append(out)
            progress(f"student {i} of {len(students)}")
    finally:
        if jobs > 1:
            pool.shutdown(cancel_futures=True)
    return outputs


def _class_files(sheet: SheetDef, outputs: list[StudentOutput], secret, pdf: bool) -> None:
    files = {"answers.csv": answers_csv(outputs),
             "manifest.json": dumps({
                 "sheet": sheet.name, "exgen": __version__,
                 # which secret, without giving it away (it would let anyone redraw any variant)
                 "secret_fingerprint": hashlib.sha256(
                     (secret if secret is not None else sheet.spec.variants.seed).encode()).hexdigest()[:16],
                 "students": [o.manifest for o in outputs]}).encode()}
    if pdf:
        files["keys.pdf"] = booklet([(o.folder / "key.pdf").read_bytes() for o in outputs])
    write_files(_STAGING, files)


def answers_csv(outputs: list[StudentOutput]) -> bytes:
    columns: list[str] = []
    for o in outputs:
        columns += [c for c in o.answers if c not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", *columns])
    for o in outputs:
        writer.writerow([o.student.id, o.student.name, *(o.answers.get(c, "") for c in columns)])
    return buffer.getvalue().encode("utf-8")


def booklet(pdfs: list[bytes]) -> bytes:
    """All keys in one PDF, in roster order; each key starts on a new page."""
    import pikepdf  # qpdf: merges a class set in a fraction of a second
    out = pikepdf.Pdf.new()
    sources = [pikepdf.Pdf.open(io.BytesIO(data)) for data in pdfs]
    for source in sources:
        out.pages.extend(source.pages)
    with out.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = "Solution keys"
    out.docinfo["/Title"] = "Solution keys"
    out.docinfo["/Producer"] = f"exgen {__version__}"
    buffer = io.BytesIO()
    out.save(buffer, deterministic_id=True)  # the same class gives the same bytes
    return buffer.getvalue()

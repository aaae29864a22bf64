"""The orchestrator: load, solve, render everything in memory, then write it at once."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from exgen.define.load import ExerciseDef, SheetDef, load_sheet
from exgen.engine.solve import NumericError, Trace, solve
from exgen.errors import OutputError, SolveError
from exgen.render.keyjson import dumps, key_document
from exgen.asks.registry import results_for
from exgen.render.documents import render
from exgen.typeset.notation import Notation


@dataclass
class BuildResult:
    sheet: SheetDef
    traces: list[Trace]
    target: Path
    files: list[str] = field(default_factory=list)


def solve_exercise(sheet: SheetDef, ex: ExerciseDef) -> Trace:
    try:
        return solve(ex.graph, ex.given, ex.rounding, exact=ex.exact, backward=ex.backward)
    except NumericError as exc:
        path = f"{ex.path}.network" + (f".equations[{exc.equation}]"
                                       if exc.equation is not None and
                                       hasattr(ex.spec.network, "equations") else "")
        raise sheet.error(SolveError, str(exc), path) from None


def solve_sheet(sheet: SheetDef) -> list[Trace]:
    return [solve_exercise(sheet, ex) for ex in sheet.exercises]


def build(name_or_path: str, out_dir: Path, pdf: bool = True, cwd: Path | None = None,
          progress: Callable[[str], None] = lambda step: None) -> BuildResult:
    """Load, solve and render everything in memory, then write it in one swap.
    ``progress`` is told each step as it starts."""
    progress("reading the definition")
    sheet = load_sheet(name_or_path, cwd)
    progress("solving")
    traces = solve_sheet(sheet)
    progress("working the asks")
    results = [results_for(ex, t, Notation.of(t.graph, sheet.spec.notation))
               for ex, t in zip(sheet.exercises, traces)]
    progress("rendering HTML")
    docs = render(sheet, traces, results)
    files: dict[str, bytes] = {
        "sheet.html": docs.sheet_html.encode(),
        "key.html": docs.key_html.encode(),
        "key.json": dumps(key_document(sheet, traces, results)).encode(),
    }
    if pdf:
        from exgen.render.pdf import html_to_pdfs  # WeasyPrint loads only when PDFs are wanted
        progress("laying out the PDFs")
        files["key.pdf"], files["sheet.pdf"] = html_to_pdfs([docs.key_html, docs.sheet_html])
    progress("writing")
    target = Path(out_dir) / sheet.name
    write_atomically(target, files)
    return BuildResult(sheet, traces, target, sorted(files))


def write_atomically(target: Path, files: dict[str, bytes]) -> None:
    """Write all files to a fresh folder beside ``target``, then swap it in."""
    staging = staging_folder(target)
    try:
        write_files(staging, files)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: cannot write the output ({exc.strerror})") from None
    swap_in(staging, target)


def staging_folder(target: Path) -> Path:
    """A fresh, private folder beside ``target`` to build the output in."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot create the output folder ({exc.strerror})") from None
    return staging


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (the old output goes only once the new is in)."""
    old = None
    try:
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
        os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: cannot write the output ({exc.strerror})") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

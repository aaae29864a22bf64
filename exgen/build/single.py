"""The orchestrator: load, solve, render everything in memory, then write it at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from exgen.asks.registry import results_for
from exgen.build.output_folder import (
    NAME_RULE,
    check_replaceable,
    is_plain_name,
    quoted,
    write_folder,
)
from exgen.define.load import ExerciseDef, SheetDef, load_sheet
from exgen.engine.solve import NumericError, Trace, solve
from exgen.errors import DefinitionError, OutputError, SolveError
from exgen.notebooks.notebook import notebook_files
from exgen.render.documents import Documents, render
from exgen.render.keyjson import dumps, key_document
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
        path = f"{ex.path}.network" + (
            f".equations[{exc.equation}]"
            if exc.equation is not None and hasattr(ex.spec.network, "equations")
            else ""
        )
        raise sheet.error(SolveError, str(exc), path) from None


def work_asks(sheet: SheetDef, ex: ExerciseDef, trace: Trace, skip: tuple[str, ...] = ()) -> dict:
    """Every ask's result for one exercise; an ask that cannot be worked (e.g. a numeric
    check whose step leaves a log's domain) is a message located in the definition."""
    if skip:
        ex = replace(ex, asks=[(n, o) for n, o in ex.asks if n not in skip])
    try:
        return results_for(ex, trace, Notation.of(trace.graph, sheet.spec.notation))
    except DefinitionError as exc:
        if exc.source:
            raise
        raise sheet.error(type(exc), exc.message, exc.path) from None


def solve_sheet(sheet: SheetDef) -> list[Trace]:
    return [solve_exercise(sheet, ex) for ex in sheet.exercises]


def build(
    name_or_path: str,
    out_dir: Path,
    pdf: bool = True,
    cwd: Path | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> BuildResult:
    """Load, solve and render everything in memory, then write it in one swap.
    ``progress`` is told each step as it starts."""
    progress("reading the definition")
    sheet = load_sheet(name_or_path, cwd)
    target = sheet_target(sheet, out_dir)
    traces, results, docs = solved_and_rendered(sheet, progress)
    files: dict[str, bytes] = {
        "sheet.html": docs.sheet_html.encode(),
        "key.html": docs.key_html.encode(),
        "key.json": dumps(key_document(sheet, traces, results)).encode(),
    }
    files.update(notebook_files(sheet, traces, seed=sheet.name))
    if pdf:
        from exgen.render.pdf import html_to_pdfs  # WeasyPrint loads only when PDFs are wanted

        progress("laying out the PDFs")
        files["key.pdf"], files["sheet.pdf"] = html_to_pdfs([docs.key_html, docs.sheet_html])
    progress("writing")
    write_atomically(target, files)
    return BuildResult(sheet, traces, target, sorted(files))


def solved_and_rendered(
    sheet: SheetDef, progress: Callable[[str], None] = lambda step: None
) -> tuple[list[Trace], list[dict], Documents]:
    """A loaded sheet solved, its asks worked and its HTML rendered, in memory: what
    `exgen build` writes and `exgen serve` shows."""
    progress("solving")
    traces = solve_sheet(sheet)
    progress("working the asks")
    results = [work_asks(sheet, ex, t) for ex, t in zip(sheet.exercises, traces)]
    progress("rendering HTML")
    return traces, results, render(sheet, traces, results)


def sheet_target(sheet: SheetDef, out_dir: Path) -> Path:
    """``out_dir/NAME``, once NAME is known to be one plain folder name (a file named
    ``..yaml`` would otherwise name the out folder itself)."""
    if not is_plain_name(sheet.name):
        raise DefinitionError(
            f"the sheet name {quoted(sheet.name)} (the file's name without .yaml) "
            f"must be {NAME_RULE}: it names the output folder; rename the file",
            sheet.source,
        )
    target = Path(out_dir) / sheet.name
    check_replaceable(target)  # before the work, not only at the end
    return target


def write_atomically(target: Path, files: dict[str, bytes]) -> None:
    """Write all files to a fresh folder beside ``target``, then swap it in."""
    write_folder(target, lambda staging: write_files(staging, files))


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) into ``folder``, which exists."""
    for relative, data in files.items():
        path = folder / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write the output ({exc.strerror})") from None

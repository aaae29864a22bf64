"""A sheet's notebooks: the student's starter (``sheet.ipynb``), the key with its
tasks completed and their outputs (``key.ipynb``), and the ``utils.py`` both import
(the checks, the digests of this student's values, and their data when the sheet
hands data out as ``utils.getdata()``).

The key's outputs are what its cells print, computed here by the same check functions
the student runs (checking.py); the tests run both notebooks in a Jupyter kernel."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from exgen.engine.snippet import snippet_code
from exgen.notebooks import checking
from exgen.notebooks.context import Setting
from exgen.notebooks.tasks import TASKS, Cells

if TYPE_CHECKING:  # the definition stage sits above the notebooks
    from exgen.define.load import SheetDef
    from exgen.engine.solve import Trace

HOW_TO = (
    "Run the cells in order. Each cell tagged *todo* has a `None` (or a function) for you "
    "to replace with your code; the cell after it checks your result against your own "
    "numbers and says which entry is wrong, without giving the numbers away."
)
FILES = {"sheet": "sheet.ipynb", "key": "key.ipynb", "utils": "utils.py"}  # beside sheet.html
WEIGHTS = re.compile(r"^[Ww]\d+$")
BIASES = re.compile(r"^[Bb]\d+$")


@dataclass
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    id: str = ""
    tags: tuple[str, ...] = ()
    solution: str | None = None  # todo cells: the key's source
    output: str = ""  # what the key's cell prints


def salt_for(seed: str, exercise_id: str) -> str:
    return hashlib.sha256(f"exgen-notebook\0{seed}\0{exercise_id}".encode()).hexdigest()[:16]


def notebook_files(
    sheet: SheetDef, traces: list[Trace], seed: str, student: str = ""
) -> dict[str, bytes]:
    """sheet.ipynb, key.ipynb and utils.py for the exercises with a ``notebook:`` block
    (none: no files), from the build's ``traces`` (one per exercise). ``seed`` salts the
    digests: each student's differ."""
    exercises = [
        (ex, trace) for ex, trace in zip(sheet.exercises, traces) if ex.spec.notebook is not None
    ]
    if not exercises:
        return {}
    table: dict = {}
    data: list[str] = []
    cells = [Cell("markdown", _title(sheet, student))]
    for ex, trace in exercises:
        setting = Setting(ex, tuple(ex.spec.notebook.tasks), salt_for(seed, ex.spec.id), trace)
        cells += _exercise_cells(setting, table, data)
    utils = _utils_source(table, data)
    return {
        FILES["sheet"]: _write(cells, key=False),
        FILES["key"]: _write(cells, key=True),
        FILES["utils"]: utils.encode(),
    }


def _title(sheet: SheetDef, student: str) -> str:
    lines = [f"# {sheet.spec.title}"]
    if student:
        lines.append(f"**{student}**")
    return "\n\n".join(lines + [HOW_TO])


def _exercise_cells(s: Setting, table: dict, data: list[str]) -> list[Cell]:
    ex = s.ex
    out = [Cell("markdown", f"## {ex.spec.title}\n\n{ex.spec.prompt.strip()}".strip())]
    out.append(Cell("code", _setup(s, data), f"{ex.spec.id}-data", ("given",)))
    for k, name in enumerate(s.tasks, start=1):
        task = TASKS[name]
        cells = task.cells(s)
        out.append(Cell("markdown", f"### {k}. {task.title}\n\n{cells.intro}"))
        if cells.given:
            out.append(Cell("code", cells.given, f"{ex.spec.id}-{name}-given", ("given",)))
        out.append(Cell("code", cells.skeleton, f"{ex.spec.id}-{name}", ("todo",), cells.solution))
        out.append(_check_cell(s, name, cells, table))
        if cells.after is not None:
            text, code, printed = cells.after
            out.append(Cell("markdown", text))
            out.append(Cell("code", code, f"{ex.spec.id}-{name}-print", ("given",), output=printed))
    return out


def _check_cell(s: Setting, task: str, cells: Cells, table: dict) -> Cell:
    lines, printed = [], io.StringIO()
    for c in cells.checks:
        if c.close_to:
            lines.append(f"check_close({c.name!r}, {c.expression}, {c.close_to})")
            reference = table[c.close_to]
            with contextlib.redirect_stdout(printed):
                checking.check_close(
                    c.name, np.zeros(reference["shape"]), np.zeros(reference["shape"])
                )
            continue
        entry = checking.expected_entry(c.name, s.salt, s.digits, c.expected)
        if table.setdefault(c.name, entry) != entry:
            raise ValueError(f"two checks name {c.name!r} with different values")
        lines.append(f"check({c.name!r}, {c.expression})")
        expected = np.asarray(c.expected, dtype=float)
        with contextlib.redirect_stdout(printed):  # the key's output: the student's own check
            checking.check(c.name, expected, table)
    return Cell(
        "code",
        "\n".join(lines),
        f"{s.ex.spec.id}-{task}-check",
        ("check",),
        output=printed.getvalue(),
    )


def _setup(s: Setting, data: list[str]) -> str:
    """The first code cell: this student's data, and the checks."""
    ex = s.ex
    head = ["import numpy as np", "from utils import check, check_close"]
    if ex.spec.random is not None:
        lines = snippet_code(ex.spec.random).splitlines()[1:]
        drawn = {d.name: d for d in ex.spec.random.draws}
        for name in s.given_names:
            if name in drawn and len(s.shapes[name]) == 2 and len(drawn[name].shape) == 1:
                lines.append(f"{name} = {name}.reshape(-1, 1)  # a column vector")
        return "\n".join(head + ["", "# your numbers"] + lines)
    if ex.spec.notebook.data == "utils":
        return "\n".join(head + ["import utils", ""] + _utils_data(s, data))
    lines = [f"{n} = {_literal(s.given(n))}" for n in s.given_names]
    return "\n".join(head + ["", "# your numbers"] + lines)


def _literal(arr: np.ndarray) -> str:
    return f"np.array({np.asarray(arr, dtype=float).tolist()!r})"


def _utils_data(s: Setting, data: list[str]) -> list[str]:
    """utils.getdata() gives the data, utils.getparams() the parameters (weights and
    biases as two lists, as in the source sheet, when they pair up)."""
    params = list(s.graph.params)
    inputs = [n for n in s.given_names if n not in params]
    weights = [p for p in params if WEIGHTS.match(p)]
    biases = [p for p in params if BIASES.match(p)]
    paired = len(weights) == len(biases) and len(weights) + len(biases) == len(params)
    data.append(_getter("getdata", "The data.", inputs, s))
    if paired:
        body = f"[{', '.join(weights)}], [{', '.join(biases)}]"
        data.append(_getter("getparams", "The parameters: weights, biases.", params, s, body))
        unpack = ["W, B = utils.getparams()", f"{_targets(weights)} = W", f"{_targets(biases)} = B"]
    else:
        data.append(_getter("getparams", "The parameters.", params, s))
        unpack = [f"{_targets(params)} = utils.getparams()"]
    return [f"{_targets(inputs)} = utils.getdata()"] + unpack


def _targets(names: list[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _getter(name: str, doc: str, names: list[str], s: Setting, body: str = "") -> str:
    lines = [f"def {name}():", f'    """{doc}"""']
    lines += [f"    {n} = {_literal(s.given(n))}" for n in names]
    lines.append(f"    return {body or _targets(names)}")
    return "\n".join(lines)


def _utils_source(table: dict, data: list[str]) -> str:
    source = inspect.getsource(checking)
    return (
        source.rstrip()
        + "\n\n\n# this student's values, as digests\nEXPECTED.update("
        + json.dumps(table, indent=1, sort_keys=True)
        + ")\n"
        + "".join(f"\n\n{d}\n" for d in data)
    )


def _write(cells: list[Cell], key: bool) -> bytes:
    import nbformat  # only a sheet with notebooks needs it

    v4 = nbformat.v4
    out, count = [], 0
    for c in cells:
        meta = {"tags": list(c.tags)} if c.tags else {}
        if c.kind == "markdown":
            out.append(v4.new_markdown_cell(c.source, id=_cell_id(c, len(out)), metadata=meta))
            continue
        source = c.solution if (key and c.solution is not None) else c.source
        cell = v4.new_code_cell(source, id=_cell_id(c, len(out)), metadata=meta)
        if key:
            count += 1
            cell.execution_count = count
            if c.output:
                cell.outputs = [v4.new_output("stream", name="stdout", text=c.output)]
        out.append(cell)
    nb = v4.new_notebook(cells=out)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nbformat.writes(nb).encode()


def _cell_id(c: Cell, position: int) -> str:
    return c.id or f"text-{position}"

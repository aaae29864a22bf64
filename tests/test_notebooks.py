"""Per-student notebooks (exgen/notebooks): the key runs and agrees with key.json, the
starter's checks fail until its todo cells hold the key's code, and one student's
checks reject another's numbers. Kernels run in the tests marked slow."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exgen.build.classset import build_class
from exgen.build.single import build, solve_sheet
from exgen.build.variants import Student
from exgen.define.load import load_sheet
from exgen.notebooks import checking
from exgen.notebooks.notebook import notebook_files

NOTEBOOK_SHEETS = [
    "hw2-numpy-backprop",
    "hw3-pytorch",
    "hw4-residual-softmax",
    "sheet11-logic-chain-rule",
]
USES_TORCH = {"hw3-pytorch", "sheet11-logic-chain-rule"}


def _notebooks(sheet, seed: str) -> dict[str, bytes]:
    return notebook_files(sheet, solve_sheet(sheet), seed)


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the checks themselves ----------------------------------------------------------


def test_rounded_is_half_up_and_exact():
    assert checking.rounded(Fraction(1, 8), 2) == "0.13"
    assert checking.rounded(-0.125, 2) == "-0.13"
    assert checking.rounded(2.675, 2) == "2.67"  # the binary value is below 2.675
    assert checking.rounded(-0.00004, 4) == "0.0000"
    assert checking.rounded(7, 0) == "7"


@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 8))
def test_a_value_computed_another_way_passes(x, digits):
    table = {"v": checking.expected_entry("v", "salt", digits, Fraction(x))}
    for y in (x, x * (1 + 1e-14), x + 1e-13):
        checking.check("v", np.array(y), table)


@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 6))
def test_a_value_off_in_the_last_digit_fails(x, digits):
    table = {"v": checking.expected_entry("v", "salt", digits, Fraction(x))}
    with pytest.raises(AssertionError, match="1 of 1 entries are not right"):
        checking.check("v", np.array(x + 1.5 * 10.0**-digits), table)


def test_check_messages_say_what_is_wrong():
    table = {"dW": checking.expected_entry("dW", "s", 2, np.array([[1, 2, 3], [4, 5, 6]]))}
    with pytest.raises(AssertionError, match=r"^dW is not computed yet: replace None"):
        checking.check("dW", None, table)
    with pytest.raises(
        AssertionError, match=r"^dW has shape \(3, 2\); expected \(2, 3\) \(transposed\?\)$"
    ):
        checking.check("dW", np.zeros((3, 2)), table)
    wrong = np.array([[1, 2, 3], [4, 5.5, 6]])
    with pytest.raises(
        AssertionError,
        match=r"^dW: 1 of 6 entries are not right, the first at \[1, 1\] \(you have 5.50; compared at 2 decimals\)$",
    ):
        checking.check("dW", wrong, table)


def test_the_digests_do_not_hold_the_numbers():
    files = _notebooks(load_sheet("sheet11-logic-chain-rule"), "seed")
    utils = files["utils.py"].decode()
    key = json.loads(Path("tests/golden/sheet11-logic-chain-rule/key.json").read_text())
    shown = key["exercises"]["sheet11"]["grads"]["W1"]["shown"]
    assert all(s not in utils for row in shown for s in row if s not in ("0.0000",))


# the notebooks as files ---------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOK_SHEETS)
def test_todo_cells_have_the_same_ids_in_both_notebooks(name):
    import nbformat

    files = _notebooks(load_sheet(name), "seed")
    sheet = nbformat.reads(files["sheet.ipynb"].decode(), as_version=4)
    key = nbformat.reads(files["key.ipynb"].decode(), as_version=4)
    assert [c.id for c in sheet.cells] == [c.id for c in key.cells]
    todo = [c for c in sheet.cells if "todo" in c.metadata.get("tags", [])]
    assert todo and all("None" in c.source for c in todo)
    solved = {c.id: c for c in key.cells}
    assert all("= None" not in solved[c.id].source for c in todo)
    assert all(c.outputs == [] for c in sheet.cells if c.cell_type == "code")


def test_a_sheet_without_a_notebook_writes_none(tmp_path):
    result = build("sheet9", tmp_path, pdf=False)
    assert not any(f.endswith((".ipynb", ".py")) for f in result.files)


def test_the_plain_build_writes_the_notebooks(tmp_path):
    result = build("sheet11-logic-chain-rule", tmp_path, pdf=False)
    assert {"sheet.ipynb", "key.ipynb", "utils.py"} <= set(result.files)


# a class: each student's own numbers and digests ---------------------------------

CLASS_SHEET = Path("exercises/sheet11-logic-chain-rule.yaml")


def _class_definition(tmp_path: Path) -> Path:
    text = CLASS_SHEET.read_text().replace(
        "exercises:\n",
        "variants:\n  seed: notebook-test\n  draw:\n"
        "    sheet11.W1: {grid: [-1, 1, 0.25]}\n    sheet11.W4: {grid: [-1, 1, 0.25]}\n"
        "exercises:\n",
        1,
    )
    path = tmp_path / "nbclass.yaml"
    path.write_text(text)
    return path


def test_each_students_checks_reject_another_students_numbers(tmp_path):
    definition = _class_definition(tmp_path)
    students = [Student("s1", "Ada"), Student("s2", "Ben")]
    build_class(str(definition), tmp_path / "out", students, pdf=False, jobs=1)
    folders = sorted((tmp_path / "out" / "nbclass" / "variants").iterdir())
    first, second = folders[0], folders[1]
    keys = [json.loads((f / "key.json").read_text()) for f in (first, second)]
    grads = [np.array(k["exercises"]["sheet11"]["grads"]["W1"]["value"], dtype=float) for k in keys]
    assert not np.allclose(grads[0], grads[1])
    utils = [_load_module(f / "utils.py", f"utils_{f.name}") for f in (first, second)]
    utils[0].check("dW1", grads[0])
    utils[1].check("dW1", grads[1])
    with pytest.raises(AssertionError, match="entries are not right"):
        utils[1].check("dW1", grads[0])
    data = [u.getparams()[0][0] for u in utils]
    assert not np.array_equal(data[0], data[1])


# the notebooks run (a Jupyter kernel each) ----------------------------------------


def _run(path: Path, replace: dict | None = None, append=None):
    """Execute a notebook in its folder; returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if append is not None:
        nb.cells.append(append)
    for cell in nb.cells:
        if replace and cell.id in replace:
            cell.source = replace[cell.id]
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb


def _errors(nb) -> list[str]:
    return [
        f"{c.id}: {o.ename}: {o.evalue}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]


def _printed(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    out = tmp_path_factory.mktemp("notebooks")
    return {name: build(name, out, pdf=False).target for name in NOTEBOOK_SHEETS}


def _needs_torch(name: str) -> None:
    if name in USES_TORCH and importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed (pip install '.[torch]')")


CHECK_LINE = re.compile(r"^check\('(d\w+)', (.+)\)$", re.M)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_SHEETS)
def test_the_key_runs_and_agrees_with_key_json(built, name):
    import nbformat

    _needs_torch(name)
    folder = built[name]
    stored = {c.id: c for c in json_cells(folder / "key.ipynb")}
    # every gradient a check cell checks (the last check of each name), read back
    checked = {}
    for cell in stored.values():
        if "check" in cell.metadata.get("tags", []):
            checked.update(dict(CHECK_LINE.findall(cell.source)))
    read = ", ".join(f"{n!r}: _read({e})" for n, e in checked.items())
    probe = (
        "import json as _json\n"
        "def _read(v):\n"
        "    v = v() if callable(v) else v\n"
        "    return np.asarray(v.detach() if hasattr(v, 'detach') else v).tolist()\n"
        f"print(_json.dumps({{{read}}}))"
    )
    nb = _run(folder / "key.ipynb", append=nbformat.v4.new_code_cell(probe, id="probe"))
    assert _errors(nb) == []
    for cell in nb.cells[:-1]:
        if cell.cell_type == "code":
            want = "".join(o.get("text", "") for o in stored[cell.id].outputs)
            assert _printed(cell) == want, cell.id
    key = json.loads((folder / "key.json").read_text())
    ex_id = next(ex.spec.id for ex in load_sheet(name).exercises if ex.spec.notebook)
    grads = key["exercises"][ex_id]["grads"]
    got = json.loads(_printed(nb.cells[-1]))
    assert {n[1:] for n in got} >= set(key["exercises"][ex_id]["params"])
    for n, value in got.items():
        expected = np.array(grads[n[1:]]["value"], dtype=float)
        assert np.allclose(np.reshape(value, expected.shape), expected, rtol=1e-9, atol=1e-15), n


def json_cells(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4).cells


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_SHEETS)
def test_the_starter_fails_until_its_todo_cells_are_done(built, name):
    _needs_torch(name)
    folder = built[name]
    starter = _run(folder / "sheet.ipynb")
    checks = [c for c in starter.cells if "check" in c.metadata.get("tags", [])]
    for cell in checks:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors and errors[0].ename == "AssertionError", cell.id
    solutions = {c.id: c.source for c in json_cells(folder / "key.ipynb")}
    todo = {c.id: solutions[c.id] for c in starter.cells if "todo" in c.metadata.get("tags", [])}
    done = _run(folder / "sheet.ipynb", replace=todo)
    assert _errors(done) == []
    assert all("✓" in _printed(c) for c in done.cells if c.id in {k.id for k in checks})


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("kernels are tested on POSIX")


# each student's own snippet seed ---------------------------------------------------


def test_each_student_runs_the_snippet_from_a_seed_of_their_own():
    from exgen.build.variants import make_variant

    sheet = load_sheet("hw2-numpy-backprop")
    a, b = (make_variant(sheet, Student(i)) for i in ("s1", "s2"))
    seeds = [v.sheet.exercises[0].spec.random.seed for v in (a, b)]
    assert seeds[0] != seeds[1] and all(1 <= s <= 99999 for s in seeds)
    assert a.drawn["backprop"]["random.seed"] == seeds[0]
    x = [v.sheet.exercises[0].given["x"] for v in (a, b)]
    assert not np.allclose(x[0], x[1])
    rng = np.random.RandomState(seeds[0])  # what the student's own snippet gives
    rng.randn(4, 3), rng.randn(4, 4), rng.randn(2, 4)
    assert np.array_equal(x[0], rng.rand(3, 5))
    cells = notebook_files(a.sheet, a.traces, a.seed)["sheet.ipynb"].decode()
    assert f"np.random.seed({seeds[0]})" in cells


def test_a_snippet_seed_is_drawn_as_whole_numbers(tmp_path):
    from exgen.errors import DefinitionError

    text = Path("exercises/hw2-numpy-backprop.yaml").read_text()
    path = tmp_path / "seeded.yaml"
    path.write_text(text.replace("{integers: [1, 99999]}", "{grid: [0, 1, 0.5]}"))
    with pytest.raises(DefinitionError) as caught:
        load_sheet(str(path))
    assert str(caught.value).endswith(
        "variants.draw.backprop.random.seed: a snippet's seed is drawn with integers: "
        "[low, high], within 0 … 4294967295"
    )

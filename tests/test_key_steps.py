"""key.json `steps` (STEPS.md) and the typesetting bugs of issue 9, each pinned.

The self-check here evaluates every emitted `expr` with exact Fractions (its own small
evaluator, not the engine's) and asks that half-up rounding gives the printed `result`;
exgen/check's printed-steps oracle is the independent checker that `exgen check` runs."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exgen.build.single import solve_sheet
from exgen.define.load import load_sheet
from exgen.render.documents import render
from exgen.render.keyjson import key_document
from exgen.typeset.notation import Notation
from exgen.typeset.steps import solution

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def sheet_of(path: Path):
    sheet = load_sheet(str(path))
    return sheet, solve_sheet(sheet)


@pytest.fixture(scope="module")
def sheet9():
    return sheet_of(ROOT / "exercises" / "sheet9.yaml")


@pytest.fixture(scope="module")
def typesetting():
    return sheet_of(FIXTURES / "typesetting.yaml")


# --- a small exact evaluator for the rational ops of `expr` -------------------------
def _array(x):
    if isinstance(x, str):
        return np.array(Fraction(x), dtype=object).reshape(())
    return np.array([[Fraction(c) for c in r] for r in x], dtype=object)


def exact(node):
    if not isinstance(node, dict):
        return _array(node)
    op, args = node["op"], node["args"]
    if op == "pow":
        base, k = exact(args[0]), int(args[1])
        return np.vectorize(lambda v: v**k, otypes=[object])(base)
    xs = [exact(a) for a in args]
    if op in ("add", "sub", "mul", "div"):
        a, b = xs
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        return a * b if op == "mul" else a / b
    if op == "matmul":
        return xs[0].dot(xs[1])
    if op == "neg":
        return -xs[0]
    if op == "transpose":
        return xs[0].T
    if op in ("sum", "mean"):
        x = xs[0]
        axis = node.get("axis")
        total = x.sum() if axis is None else x.sum(axis=axis, keepdims=True)
        count = x.size if axis is None else x.shape[axis]
        return total if op == "sum" else total / count
    if op == "relu":
        return np.vectorize(lambda v: v if v > 0 else Fraction(0), otypes=[object])(xs[0])
    raise AssertionError(f"no exact evaluation for {op}")


def half_up(x: Fraction, digits: int) -> str:
    d = Decimal(x.numerator) / Decimal(x.denominator)
    text = str(d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    return text[1:] if text.startswith("-") and set(text[1:]) <= set("0.") else text


def test_sheet9_steps_give_their_printed_results_exactly(sheet9):
    sheet, traces = sheet9
    key = key_document(sheet, traces)
    assert key["rounding"]["carry"] is True
    digits = key["rounding"]["digits"]
    checked = 0
    for ex in key["exercises"].values():
        for step in ex.get("steps", []):
            value = exact(step["expr"])
            got = np.vectorize(lambda v: half_up(v, digits), otypes=[object])(value)
            want = np.array(step["result"], dtype=object)
            assert got.tolist() == want.tolist(), step
            checked += 1
    assert checked == 53  # 16 steps in q1 and 9 worked components ("e.g."), 17 + 11 in q3


def test_steps_follow_the_printed_key(sheet9):
    """The steps come in the key's order, each with its line's LaTeX."""
    sheet, traces = sheet9
    ex = sheet.exercises[2]
    steps = key_document(sheet, traces)["exercises"][ex.spec.id]["steps"]
    assert [s["target"] for s in steps[:4]] == ["u1", "example.u1", "z1", "u2"]
    assert steps[0]["expr"] == {
        "op": "matmul",
        "args": [
            [
                ["0.4", "0.5", "0.25", "0.1"],
                ["0.2", "0.25", "0.4", "0.5"],
                ["0.1", "0.75", "0.3", "0"],
            ],
            [["1"], ["2"], ["3"], ["4"]],
        ],
    }
    assert steps[0]["result"] == [["2.55"], ["3.90"], ["2.50"]]
    assert steps[0]["latex"].startswith(
        r"\mathbf{u}_{1} = \mathbf{W}_{1}\,\mathbf{x} = "
        r"\begin{bmatrix}0.4 & 0.5 & 0.25 & 0.1 \\"
    )
    assert [s["target"] for s in steps[-2:]] == ["grad.W1", "example.grad.W1"]


def test_no_step_prints_the_same_value_twice(sheet9):
    """Was: ∂L/∂y = ∂L/∂(y − ŷ) = [7.83; 5.93] = [7.83; 5.93] in 8 of 50 steps."""
    sheet, traces = sheet9
    for ex, trace in zip(sheet.exercises, traces):
        if ex.design is not None:
            continue
        sol = solution(trace, Notation.of(trace.graph, sheet.spec.notation), ex.asks)
        for step in sol.steps():
            assert all(a != b for a, b in zip(step.parts, step.parts[1:])), step.latex


def _lines(typesetting, exercise: str) -> list[str]:
    sheet, traces = typesetting
    key = key_document(sheet, traces)
    return [s["latex"] for s in key["exercises"][exercise]["steps"]]


def test_negative_numbers_are_bracketed(typesetting):
    lines = "\n".join(_lines(typesetting, "neg"))
    assert r"{\left(-7.10\right)}^{2}" in lines  # was −7.10²
    assert r"28.71 - \left(-0.10\right)" in lines  # was 28.71 − −0.10
    assert r"-\left(-7\right)" in lines  # was − −7
    assert r"0.50 \cdot \left(-14.20\right)" in lines  # was 0.50 · −14.20
    assert r"-0.50 + \left(-7.10\right)" in lines


def test_a_negated_name_in_an_equation_is_bracketed(typesetting):
    sheet, traces = typesetting
    html = render(sheet, traces).sheet_html  # was c2 + 1 + c2 + − a
    assert 'e</span><sup>2</sup>\u00a0+\u00a0(−<span class="mi">a</span>)' in html


def test_softmax_on_a_batch_says_it_works_column_by_column(typesetting):
    """Was δz2 = p ⊙ (δp − pᵀδp): read as written, not what the key computed."""
    sheet, traces = typesetting
    key = key_document(sheet, traces)["exercises"]["ce"]
    step = next(s for s in key["steps"] if s["target"] == "grad.u2")
    assert step["latex"].startswith(
        r"{\delta}_{\mathbf{u}_{2}} = \mathbf{p} \odot "
        r"\left({\delta}_{\mathbf{p}} - \sum_{k}\left(\mathbf{p} "
        r"\odot {\delta}_{\mathbf{p}}\right)\right)"
    )
    assert step["expr"]["op"] == "mul"
    assert step["expr"]["args"][1]["args"][1] == {
        "op": "sum",
        "axis": 0,
        "args": [
            {
                "op": "mul",
                "args": [
                    [["0.60", "0.12"], ["0.40", "0.88"]],
                    [["-0.83", "0.00"], ["0.00", "-0.57"]],
                ],
            }
        ],
    }
    assert step["result"] == [["-0.20", "0.06"], ["0.20", "-0.06"]]
    assert key["grads"]["u2"]["shown"] == step["result"]


def test_error_signals_are_named_after_symbols_not_sub_expressions(typesetting):
    """Was δ₋∑(y⊙log p)."""
    sheet, traces = typesetting
    html = render(sheet, traces).key_html
    assert "δ<sub>−" not in html and 'δ<sub><span class="mf big">∑' not in html
    for line in _lines(typesetting, "ce"):
        assert r"\delta_{-" not in line and r"\delta_{\sum" not in line


def test_a_local_derivative_is_worked_out_from_printed_numbers(typesetting):
    """σ(u)(1 − σ(u)), 1 − tanh², softplus′ = σ: the note's values are a checkable step."""
    sheet, traces = typesetting
    steps = key_document(sheet, traces)["exercises"]["act"]["steps"]
    local = next(s for s in steps if s["target"] == "local.h")
    assert local["expr"] == {"op": "sigmoid", "args": [[["-0.02"], ["1.25"]]]}
    assert local["result"] == [["0.50"], ["0.78"]]
    assert local["latex"] == (
        r"\sigma\left(\mathbf{h}\right) = \sigma\begin{bmatrix}-0.02 \\ "
        r"1.25\end{bmatrix} = \begin{bmatrix}0.50 \\ 0.78\end{bmatrix}"
    )
    mask = next(s for s in steps if s["target"] == "grad.W @ x")
    assert mask["expr"]["args"][1] == [["0.01"], ["1"]]  # leaky_relu′ prints exactly
    assert not any(s["target"] == "local.W @ x" for s in steps)  # LReLU′(u) is no arithmetic

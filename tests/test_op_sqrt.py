"""sqrt: √u, 1/(2√u) as its derivative, refused at u ≤ 0, typeset as a radical; checked
like every op, and its printed steps worked out and read back by exgen check."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import (
    GIVEN,
    gradients_against_central_differences,
    gradients_against_torch,
    local_against_central_differences,
    network,
    written,
)

from exgen.build.single import solve_sheet
from exgen.check.line_reading import read
from exgen.check.printed_steps import check_printed_steps, key_for_check
from exgen.define.load import load_sheet
from exgen.engine.ops import make_op
from exgen.engine.rounding import Rounding
from exgen.engine.solve import NumericError, solve
from exgen.typeset.formula import Sym
from exgen.typeset.latex import latex
from exgen.typeset.mathhtml import to_html
from exgen.typeset.mathml import to_mathml
from exgen.typeset.spell import spell
from exgen.typeset.terms import Leaf, Symbol, apply, leaf

POSITIVE = dict(GIVEN, W=np.abs(GIVEN["W"]), x=np.abs(GIVEN["x"]), b=np.abs(GIVEN["b"]))
X = Symbol(Sym("x"), "x")


def test_forward_and_local():
    op = make_op("sqrt")
    x = np.array([[0.25], [4.0], [2.0]])
    out = op.forward(x)
    np.testing.assert_allclose(out.reshape(-1), [0.5, 2.0, np.sqrt(2)])
    np.testing.assert_allclose(op.local(x, out).reshape(-1), [1.0, 0.25, 1 / (2 * np.sqrt(2))])
    assert not op.rational and op.kinks == () and op.saturates is None


def test_local_derivative_against_central_differences():
    local_against_central_differences("sqrt", np.array([[0.02], [0.3], [1.9], [4.0], [250.0]]))


def test_gradients_against_central_differences():
    gradients_against_central_differences("sqrt", given=POSITIVE)


def test_gradients_against_torch():
    torch = pytest.importorskip("torch")
    gradients_against_torch("sqrt", torch.sqrt, given=POSITIVE)


@pytest.mark.parametrize(
    "b, message",
    [
        ([[0.1], [-0.3], [-0.5]], "'sqrt(W @ x + b)' takes the square root of a value < 0"),
        (  # W @ x is [0.25, 1.5625, -0.25]: the first unit's input is exactly 0
            [[-0.25], [0.1], [0.5]],
            "'sqrt(W @ x + b)' takes the square root of 0, where its derivative is infinite",
        ),
    ],
)
def test_out_of_domain_is_refused(b, message):
    given = dict(GIVEN, x=np.array([[1.0], [0.25]]), b=np.array(b))
    _, given, graph = network("sqrt", given)
    with pytest.raises(NumericError) as info:
        solve(graph, given, Rounding(2), exact=False)
    assert str(info.value) == message


def test_typeset_as_a_radical():
    term = apply("sqrt", X)
    assert latex(spell(term)) == r"\sqrt{x}"
    assert to_html(spell(term)) == (
        '<span class="sqrt"><span class="rs">√</span><span class="rad">'
        '<span class="mi">x</span></span></span>'
    )
    assert to_mathml(spell(term)) == '<math class="sr-only"><msqrt><mi>x</mi></msqrt></math>'
    # the bar groups its radicand; a power of a radical brackets it
    assert latex(spell(apply("sqrt", apply("add", X, leaf("1"))))) == r"\sqrt{x + 1}"
    assert latex(spell(apply("pow", term, leaf("2")))) == r"{\left(\sqrt{x}\right)}^{2}"
    assert latex(spell(apply("mul", leaf("2"), term, style="scalar"))) == r"2 \cdot \sqrt{x}"
    # over a matrix the sign is drawn to its height (style.css: .sqrt.tall)
    column = spell(apply("sqrt", Leaf((("4",), ("9",)), 1)))
    assert to_html(column).startswith('<span class="sqrt tall"><span class="rs"></span>')
    assert latex(column) == r"\sqrt{\begin{bmatrix}4 \\ 9\end{bmatrix}}"


def test_the_local_derivative_reads():
    op = make_op("sqrt")
    assert latex(spell(op.local_formula(X, None, None))) == r"\frac{1}{2 \cdot \sqrt{x}}"


def test_read_back_from_a_printed_line():
    assert read(r"\frac{505.0000 + \sqrt{251425.0000}}{2}") == (
        "div",
        (("add", ("505.0000", ("sqrt", ("251425.0000",), ())), ()), "2"),
        (),
    )


def test_written_in_the_key_and_in_torch():
    torch_line, line, broken = written("sqrt", POSITIVE)
    assert torch_line == "torch.sqrt(W @ x + b)"
    assert line.startswith(
        r"\mathbf{h} = \sqrt{\mathbf{W}\,\mathbf{x} + \mathbf{b}} = \sqrt{\begin{bmatrix}"
    )
    assert broken == []


SHEET = """\
title: square roots
exercises:
  - id: root
    title: a square root
    network:
      equations: ["u = W @ x + b", "h = sqrt(u)", "L = 0.5 * sum((h - t) ** 2)"]
      loss: L
      params: [W, b]
    values:
      W: [[0.5, 1.0], [1.5, 0.25]]
      x: [1.2, 0.4]
      b: [0.1, 0.3]
      t: [0.5, 1.0]
    ask: [forward, backward]
"""


def test_the_printed_steps_check(tmp_path):
    """The forward step, the local derivative 1/(2·√u) with its numbers, the gradients:
    worked out again and read back from the printed lines by exgen check's oracle."""
    path = tmp_path / "root.yaml"
    path.write_text(SHEET)
    sheet = load_sheet(str(path))
    key = key_for_check(sheet, solve_sheet(sheet))
    entry = key["exercises"]["root"]
    local = next(s for s in entry["steps"] if s["target"] == "local.u")
    assert local["expr"] == {
        "op": "div",
        "args": ["1", {"op": "mul", "args": ["2", {"op": "sqrt", "args": [[["1.10"], ["2.20"]]]}]}],
    }
    assert local["result"] == [["0.48"], ["0.34"]]
    finding = check_printed_steps("root", entry, key["rounding"])
    assert finding.status == "ok", finding

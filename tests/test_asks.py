"""The asks beyond forward and backward, against hand-worked values and oracles."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exgen.asks.numeric_check import numeric_check
from exgen.asks.param_count import param_count
from exgen.asks.pytorch import code_for, predicted_output, run, torch_available
from exgen.asks.registry import results_for
from exgen.asks.update import update
from exgen.build.single import solve_sheet
from exgen.define.load import load_sheet
from exgen.errors import DefinitionError
from exgen.typeset.notation import Notation

ROOT = Path(__file__).parents[1]


def sheet(name):
    s = load_sheet(str(ROOT / "exercises" / f"{name}.yaml"))
    return s, solve_sheet(s)


def by_id(s, traces, ident):
    for ex, t in zip(s.exercises, traces):
        if ex.spec.id == ident:
            return ex, t
    raise KeyError(ident)


def test_numeric_check_agrees_on_sheet9():
    s, traces = sheet("sheet9")
    ex, _ = by_id(s, traces, "q3")
    result = numeric_check(ex, 1e-5)
    assert [r.param for r in result.rows] == ["W1", "W2", "W3"]
    assert all(r.worst < 1e-8 for r in result.rows)
    # dL/dW3[0][0] = (y1 - yhat1) z1_1 = 7.825 * 2.55, with full precision
    assert result.rows[2].numeric[0, 0] == pytest.approx(7.825 * 2.55, rel=1e-8)


def test_param_count_of_the_stand_in_mlp():
    s, traces = sheet("hw4-residual-softmax")
    ex, _ = by_id(s, traces, "t2")
    rows = param_count(ex)
    assert [(r.layer, r.total) for r in rows] == [("layer 1", 16), ("layer 2", 15), ("layer 3", 8)]
    assert rows[0].params == [("W1", (4, 3), 12), ("b1", (4,), 4)]


def test_gradient_descent_step_by_hand():
    s, traces = sheet("hw4-residual-softmax")
    ex, trace = by_id(s, traces, "t1")
    # u = 0.4, v = 0.4, y = -1.2*0.4 + 0.5 = 0.02, dL/dy = -0.98,
    # dL/dw2 = -0.98 * 0.4 = -0.392, dL/dw1 = -0.98 * -1.2 * 1 * 0.5 = 0.588
    assert trace.grads["w2"][0, 0] == Fraction("-0.392")
    assert trace.grads["w1"][0, 0] == Fraction("0.588")
    result = update(ex, trace, 0.1)
    assert result.eta == Fraction(1, 10)
    assert [r.new[0, 0] for r in result.rows] == [
        Fraction("0.8") - Fraction("0.0588"),
        Fraction("-1.2") + Fraction("0.0392"),
    ]


def test_symbolic_chain_rule_matches_the_seed_form_and_the_engine():
    s, traces = sheet("sheet11-logic-chain-rule")
    ex, trace = by_id(s, traces, "ex2")
    res = results_for(ex, trace, Notation(trace.graph))["symbolic"]
    v = {k: float(np.asarray(a).reshape(-1)[0]) for k, a in ex.given.items()}
    z3 = v["w13"] * v["x1"] + v["w23"] * v["x2"]
    z4 = v["w14"] * v["x1"] + v["w24"] * v["x2"]
    a3, a4 = math.tanh(z3), math.tanh(z4)
    z5, z6 = v["w35"] * a3 + v["w45"] * a4, v["w36"] * a3 + v["w46"] * a4
    seed = (
        v["x1"]
        * (1 - math.tanh(z3) ** 2)
        * (v["w35"] * (1 - math.tanh(z5) ** 2) + v["w36"] * (1 - math.tanh(z6) ** 2))
    )
    assert res.expansion.value == pytest.approx(seed, rel=1e-12)
    assert res.engine_value == pytest.approx(seed, rel=1e-12)
    assert len(res.expansion.paths) == 2


def test_softmax_cross_entropy_gradient():
    s, traces = sheet("hw4-residual-softmax")
    _ex, trace = by_id(s, traces, "t4")
    h = np.array([2, 1, 0.1])
    p = np.exp(h) / np.exp(h).sum()
    np.testing.assert_allclose(
        trace.grads["h"].astype(float).reshape(-1), p - [0, 1, 0], rtol=1e-12
    )


def test_logic_square_and_xor_are_verified():
    s, traces = sheet("sheet11-logic-chain-rule")
    for ident, points in (("ex1", 81), ("ex1b", 4)):
        ex, trace = by_id(s, traces, ident)
        out = [int(v) for v in trace.values["y"].reshape(-1)]
        assert len(out) == points and out == ex.design.expected
    ex, _ = by_id(s, traces, "ex1b")
    assert ex.design.expected == [0, 1, 1, 0]


@pytest.mark.parametrize(
    "region, message",
    [
        ('["x1 >= 0"]', "expected a strict inequality"),
        ('["x1 * x2 > 0"]', "'x1 * x2' is not linear in the inputs"),
        ('["x3 > 0"]', "'x3' is not one of the inputs (x1, x2)"),
    ],
)
def test_logic_refuses_what_threshold_units_cannot_do(tmp_path, region, message):
    path = tmp_path / "l.yaml"
    path.write_text(
        f"title: t\nexercises:\n  - id: e\n    title: e\n    ask:\n"
        f"      - logic: {{region: {region}}}\n"
    )
    with pytest.raises(DefinitionError) as info:
        load_sheet(str(path))
    assert message in str(info.value) and "exercises[0].ask[0].logic.region[0]" in str(info.value)


def test_pytorch_code_and_its_predicted_output():
    s, traces = sheet("sheet11-logic-chain-rule")
    ex, _ = by_id(s, traces, "sheet11")
    code = code_for(ex)
    assert "B1 = torch.tensor([0.1, 0.0, 0.2], dtype=torch.float64, requires_grad=True)" in code
    assert "Z1 = X @ W1 + B1" in code and "E.backward()" in code
    compile(code, "generated", "exec")  # valid Python
    from exgen.engine.rounding import Rounding
    from exgen.engine.solve import solve

    full = solve(ex.graph, ex.given, Rounding(4), exact=False)
    text = predicted_output(ex, full)
    assert text.startswith("Z1 = [[") and "dE/dB4 = [" in text


@pytest.mark.slow
@pytest.mark.skipif(not torch_available(), reason="the torch extra is not installed")
def test_pytorch_code_runs_and_agrees():
    from exgen.engine.rounding import Rounding
    from exgen.engine.solve import solve

    s, traces = sheet("sheet11-logic-chain-rule")
    ex, _ = by_id(s, traces, "sheet11")
    full = solve(ex.graph, ex.given, Rounding(4), exact=False)
    result = run(ex, full)
    assert result.ran and result.agrees
    assert result.output == predicted_output(ex, full)

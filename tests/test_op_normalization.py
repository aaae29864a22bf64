"""batchnorm(x, gamma, beta, eps=…) in training mode and layernorm(x, gamma, beta, eps=…)
of a matrix, in the column layout (features × samples) and the row layout (samples ×
features): against PyTorch autograd (F.batch_norm with training=True, F.layer_norm) in
float64 on random shapes, against central differences, and in a network; eps takes any
positive number; the key prints μ, σ², x̂ and the backward's three terms as lines that
exgen check recomputes; no_variance_near_zero refuses a feature that hardly varies."""

from __future__ import annotations

import numpy as np
import pytest
from torch_oracle import torch_gradients

from exgen.engine.equations import EquationError, parse_equation
from exgen.engine.graph import GraphError, compile_graph
from exgen.engine.ops import make_op
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.typeset.latex import latex
from exgen.typeset.notation import Notation
from exgen.typeset.steps import solution

RNG = np.random.default_rng(21)
CASES = [
    (name, unit_axis, shape, eps)
    for name in ("batchnorm", "layernorm")
    for unit_axis in (0, 1)
    for shape in ((3, 4), (2, 5), (4, 2), (1, 3))
    for eps in (1e-5, 0.1)
]


def _op(name, unit_axis, eps):
    return make_op(name, axis=unit_axis, keywords={"eps": eps})


def _params(shape, unit_axis):
    features = shape[unit_axis]
    vec = (features, 1) if unit_axis == 0 else (1, features)
    return RNG.normal(size=vec), RNG.normal(size=vec)


def _torch(torch, name, x, gamma, beta, g, unit_axis, eps):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, gamma, beta)]
    t, gm, bt = ts
    rows = t if unit_axis == 1 else t.T  # samples × features
    if name == "batchnorm":
        out = torch.nn.functional.batch_norm(
            rows, None, None, gm.reshape(-1), bt.reshape(-1), training=True, eps=eps
        )
    else:
        out = torch.nn.functional.layer_norm(
            rows, rows.shape[1:], gm.reshape(-1), bt.reshape(-1), eps=eps
        )
    out = out if unit_axis == 1 else out.T
    out.backward(torch.tensor(g, dtype=torch.float64))
    return out.detach().numpy(), [v.grad.numpy() for v in ts]


@pytest.mark.parametrize("name, unit_axis, shape, eps", CASES)
def test_forward_and_backward_against_torch(name, unit_axis, shape, eps):
    torch = pytest.importorskip("torch")
    if name == "batchnorm" and shape[1 - unit_axis] == 1:
        pytest.skip("one sample: no batch to normalise over")
    op = _op(name, unit_axis, eps)
    x = RNG.normal(size=shape)
    gamma, beta = _params(shape, unit_axis)
    out = op.forward(x, gamma, beta)
    g = RNG.normal(size=shape)
    want_out, want_grads = _torch(torch, name, x, gamma, beta, g, unit_axis, eps)
    np.testing.assert_allclose(out, want_out, rtol=1e-10, atol=1e-12)
    for got, want in zip(op.backward(g, (x, gamma, beta), out), want_grads):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, unit_axis, shape, eps", CASES[::3])
def test_backward_against_central_differences(name, unit_axis, shape, eps):
    op = _op(name, unit_axis, eps)
    xs = [RNG.normal(size=shape), *_params(shape, unit_axis)]
    g = RNG.normal(size=shape)
    grads = op.backward(g, xs, op.forward(*xs))
    h = 1e-6
    for k, x in enumerate(xs):
        numeric = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            up, down = [v.copy() for v in xs], [v.copy() for v in xs]
            up[k][idx] += h
            down[k][idx] -= h
            numeric[idx] = ((op.forward(*up) - op.forward(*down)) * g).sum() / (2 * h)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-5, atol=1e-7)


def _network(name, layout, eps="0.01"):
    lines = (
        ["Z = W @ X", f"Y = {name}(Z, gamma, beta, eps={eps})", "L = 0.5 * sum((Y - T) ** 2)"]
        if layout == "column"
        else ["Z = X @ W", f"Y = {name}(Z, gamma, beta, eps={eps})", "L = 0.5 * sum((Y - T) ** 2)"]
    )
    n, f = 4, 3
    given = {
        "W": RNG.normal(size=(f, 2) if layout == "column" else (2, f)),
        "X": RNG.normal(size=(2, n) if layout == "column" else (n, 2)),
        "gamma": RNG.normal(size=f),
        "beta": RNG.normal(size=f),
        "T": RNG.normal(size=(f, n) if layout == "column" else (n, f)),
    }
    eqs = [parse_equation(t) for t in lines]
    return eqs, given, compile_graph(eqs, given, "L", ["W", "gamma", "beta"], layout)


@pytest.mark.parametrize("layout", ("column", "row"))
@pytest.mark.parametrize("name", ("batchnorm", "layernorm"))
def test_a_network_against_torch(name, layout):
    torch = pytest.importorskip("torch")
    eqs, given, graph = _network(name, layout)
    trace = solve(graph, given, Rounding(6), exact=False)
    loss, grads = torch_gradients(torch, eqs, given, "L", layout)
    assert float(trace.values["L"][0, 0]) == pytest.approx(loss, rel=1e-12)
    for p in ("W", "gamma", "beta"):
        want = grads[p].reshape(trace.grads[p].shape)
        np.testing.assert_allclose(trace.grads[p].astype(float), want, rtol=1e-9)


def test_batchnorm_normalises_each_feature_over_the_samples_in_either_layout():
    x = RNG.normal(size=(3, 5))
    ones, zeros = np.ones((3, 1)), np.zeros((3, 1))
    column = make_op("batchnorm", axis=0).forward(x, ones, zeros)
    row = make_op("batchnorm", axis=1).forward(x.T, ones.T, zeros.T)
    np.testing.assert_allclose(column, row.T)
    np.testing.assert_allclose(column.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(
        make_op("layernorm", axis=0).forward(x, ones, zeros).mean(0), 0, atol=1e-12
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "Y = batchnorm(Z, g, b, eps=-0.1)",
            "eps= is a positive number in batchnorm(), found -0.1",
        ),
        ("Y = batchnorm(Z, g, b, eps=0)", "eps= is a positive number in batchnorm(), found 0"),
        ("Y = layernorm(Z, g, b, eps=e)", "eps= takes a number in layernorm(), found 'e'"),
        ("Y = batchnorm(Z, g, b, axis=1)", "batchnorm() takes only eps=; found 'axis='"),
        ("Y = batchnorm(Z, g)", "batchnorm() takes exactly 3 arguments"),
    ],
)
def test_eps_takes_any_positive_number_and_nothing_else(text, message):
    with pytest.raises(EquationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_equation(text)


def test_eps_is_kept_as_written():
    expr = parse_equation("Y = batchnorm(Z, g, b, eps=0.001)").expr
    assert float(make_op("batchnorm", keywords=dict(expr.keywords)).eps) == 0.001
    assert float(make_op("batchnorm").eps) == 1e-5  # PyTorch's default


def test_gamma_must_hold_one_value_per_feature():
    eqs = [parse_equation("Y = batchnorm(Z, g, b)"), parse_equation("L = sum(Y)")]
    given = {"Z": np.zeros((3, 4)), "g": np.ones(4), "b": np.zeros(3)}
    with pytest.raises(GraphError) as err:
        compile_graph(eqs, given, "L", ["g"])
    assert str(err.value) == (
        "g (of length 4) must hold one value per feature in 'batchnorm(Z, g, b)': "
        "3 values for Z (shape 3×4)"
    )
    assert err.value.blame == "g"


def test_no_variance_near_zero_refuses_a_feature_that_hardly_varies():
    from exgen.build.variants import violations

    eqs = [parse_equation("Y = batchnorm(Z, g, b)"), parse_equation("L = sum(Y ** 2)")]
    spread = np.array([[1.0, -1.0, 0.5, 0.0], [0.2, 0.4, -0.6, 1.0]])
    flat = spread.copy()
    flat[1] = [0.3, 0.3, 0.3, 0.301]  # variance 1.9e-7, below 1000·eps
    for z, broken in ((spread, []), (flat, ["no_variance_near_zero"])):
        given = {"Z": z, "g": np.ones(2), "b": np.zeros(2)}
        graph = compile_graph(eqs, given, "L", ["g"])
        assert violations(solve(graph, given, Rounding(2)), ["no_variance_near_zero"]) == broken


def test_the_key_prints_the_stages_as_a_textbook_does():
    _, given, graph = _network("batchnorm", "column")
    trace = solve(graph, given, Rounding(2, carry=True))
    sol = solution(trace, Notation(graph), [("forward", None), ("backward", None)])
    lines = [latex(s.lhs) for s in sol.forward + sol.backward]
    targets = [s.target for s in sol.forward + sol.backward]
    assert targets[1:5] == ["stage.mean.Y", "stage.var.Y", "stage.xhat.Y", "Y"]
    assert lines[1].startswith(r"\boldsymbol{\mu}") and r"\sigma" in lines[2]
    assert r"\hat" in lines[3]
    at = targets.index("grad.Z")
    assert targets[at - 3 : at] == ["stage.grad.xhat.Y", "stage.sum.Y", "stage.spread.Y"]
    dz = sol.backward[[s.target for s in sol.backward].index("grad.Z")]
    assert len(dz.claims) == 1 and dz.claims[0][0].op == "div"  # (m ∂x̂ − ∑ − x̂ ⊙ ∑) / …


def test_a_wrong_printed_stage_fails_the_check(tmp_path, monkeypatch):
    """The variance printed unbiased while x̂ used the biased one: exgen check catches the
    σ² line (its printed numbers give another result) and the x̂ line after it."""
    import shutil
    from pathlib import Path

    from click.testing import CliRunner

    from exgen.cli import main
    from exgen.engine.ops.normalization import BatchNorm

    shutil.copytree(Path(__file__).parents[1] / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    original = BatchNorm.staged

    def unbiased(self, xs, carry=lambda a: a):
        out = original(self, xs, carry)
        m = np.shape(xs[0])[self.axis]
        out["var"] = carry(out["var"] * m / (m - 1))
        return out

    assert CliRunner().invoke(main, ["check", "batchnorm", "--no-torch"]).exit_code == 0
    monkeypatch.setattr(BatchNorm, "staged", unbiased)
    result = CliRunner().invoke(main, ["check", "batchnorm", "--no-torch"])
    assert result.exit_code == 4, result.output
    assert "printed steps FAILED" in result.output
    assert "(target stage.var.Y)" in result.output and "(target stage.xhat.Y)" in result.output


ROW_SHEET = """title: BN row
course: Test
rounding: {digits: 3, carry: CARRY}
exercises:
  - id: r
    title: row layout
    points: 1
    prompt: x
    network:
      layout: row
      equations:
        - Z = X @ W
        - Y = batchnorm(Z, gamma, beta)
        - H = layernorm(Y, g2, b2, eps=0.01)
        - L = 0.5 * sum((H - T) ** 2)
      loss: L
      params: [W, gamma, beta, g2, b2]
    values:
      W: [[1, 1, 0.5], [1, -1, 2]]
      X: [[1.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [2.5, 0.5]]
      gamma: [1.5, 0.5, 1]
      beta: [0.5, 0.25, 0]
      g2: [1, 2, 0.5]
      b2: [0, 0, 1]
      T: [[1, 0, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0]]
    ask: [forward, backward]
"""


@pytest.mark.parametrize("carry", ("true", "false"))
def test_a_row_layout_key_passes_the_check(tmp_path, monkeypatch, carry):
    """Samples as rows: μ and σ² of batch norm are rows, layer norm's columns; every
    printed line checks, carried or not."""
    from click.testing import CliRunner

    from exgen.cli import main

    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "bnrow.yaml").write_text(ROW_SHEET.replace("CARRY", carry))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "bnrow"])
    assert result.exit_code == 0, result.output
    assert "printed steps ok" in result.output

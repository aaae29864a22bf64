"""max(a, b) and min(a, b) of two arrays: element-wise, broadcasting as +, exact; the
gradient goes to the larger (smaller) operand and is split in half at a tie, as PyTorch's
torch.maximum/torch.minimum; checked like every op, and the key says the tie rule."""

from __future__ import annotations

import numpy as np
import pytest
from torch_oracle import torch_gradients

from exgen.asks.pytorch import torch_ast
from exgen.engine.equations import EquationError, parse_equation
from exgen.engine.graph import compile_graph
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.notebooks.numpy_code import NumpyCode
from exgen.typeset.backward_steps import BackwardWriter
from exgen.typeset.notation import Notation

GIVEN = {
    "W": np.array([[1.0, 0.5], [0.5, -1.0], [2.0, 1.0]]),
    "x": np.array([[1.0], [2.0]]),
    "v": np.array([[2.0], [0.0], [3.0]]),  # ties u where u = 2
    "c": np.array([[4.0], [1.0], [1.0]]),
    "s": np.array([[0.5]]),
    "t": np.array([[1.0], [1.0], [0.0]]),
}
NETWORKS = {
    "max with a tie": ["u = W @ x", "h = max(u, v)", "g = min(h, c)"],
    "min then max": ["u = W @ x", "h = min(u, v)", "g = max(h, c)"],
    "a scalar broadcast": ["u = W @ x", "h = max(u, s)", "g = min(c, h)"],
    "smooth around": ["u = tanh(W @ x)", "h = max(u, v / 4)", "g = min(h, c)"],
}


def _graph(lines, given=GIVEN):
    eqs = [parse_equation(t) for t in [*lines, "L = 0.5 * sum((g - t) ** 2)"]]
    used = {n for e in eqs for n in e.expr.names()}
    given = {k: v for k, v in given.items() if k in used}
    params = [p for p in ("W", "v", "s") if p in given]
    return eqs, given, compile_graph(eqs, given, "L", params)


@pytest.mark.parametrize(
    "line, message",
    [
        ("h = max(u)", "max() takes exactly two arguments, found 'max(u)'"),
        ("h = min(u, v, w)", "min() takes exactly two arguments, found 'min(u, v, w)'"),
        ("h = relu(u, v)", "relu() takes exactly one argument, found 'relu(u, v)'"),
    ],
)
def test_arity_is_per_operation(line, message):
    with pytest.raises(EquationError) as err:
        parse_equation(line)
    assert str(err.value) == message


def test_exact_and_the_tie_split_in_half():
    _, given, graph = _graph(NETWORKS["max with a tie"])
    assert graph.exact
    trace = solve(graph, given, Rounding(6))
    assert [str(x) for x in trace.values["h"].ravel()] == ["2", "0", "4"]
    # u₁ = v₁ = 2: each gets half of ∂L/∂h₁ = g₁ − t₁ = 1; v₂ = 0 > u₂ takes all of −1
    assert [str(x) for x in trace.grads["v"].ravel()] == ["1/2", "-1", "0"]
    assert [str(x) for x in trace.grads["W"][:, 0]] == ["1/2", "0", "0"]


@pytest.mark.parametrize("case", sorted(NETWORKS))
def test_values_and_gradients_against_torch(case):
    torch = pytest.importorskip("torch")
    eqs, given, graph = _graph(NETWORKS[case])
    trace = solve(graph, given, Rounding(6), exact=False)
    loss, grads = torch_gradients(torch, eqs, given, "L")
    assert float(trace.values["L"][0, 0]) == pytest.approx(loss, rel=1e-12)
    for p in graph.params:
        np.testing.assert_allclose(
            np.array(trace.grads[p], dtype=float), grads[p], rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("case", sorted(NETWORKS))
def test_gradients_against_central_differences(case):
    """At a tie the central difference sees half the slope on each side: the split."""
    _, given, graph = _graph(NETWORKS[case])
    trace = solve(graph, given, Rounding(6), exact=False)
    h = 1e-6
    for p in graph.params:
        numeric = np.zeros(given[p].shape)
        for idx in np.ndindex(given[p].shape):
            values = []
            for sign in (1, -1):
                moved = {k: v.copy() for k, v in given.items()}
                moved[p][idx] += sign * h
                out = solve(graph, moved, Rounding(6), exact=False, backward=False)
                values.append(float(out.values["L"][0, 0]))
            numeric[idx] = (values[0] - values[1]) / (2 * h)
        np.testing.assert_allclose(
            np.array(trace.grads[p], dtype=float), numeric, rtol=1e-6, atol=1e-8
        )


def test_the_key_writes_the_mask_and_the_tie_rule():
    _, given, graph = _graph(NETWORKS["max with a tie"])
    trace = solve(graph, given, Rounding(2))
    step = BackwardWriter(trace, Notation(graph)).backward_step(
        "v", [c for c in trace.contributions if c.target == "v"]
    )
    assert r"\odot \left[\mathbf{v} > \mathbf{u}\right]" in step.latex
    assert r"\begin{bmatrix}0.5 \\ 1 \\ 0\end{bmatrix}" in step.latex  # ½ at the tie
    assert "as torch.maximum does" in str(step.note)


def test_torch_and_numpy_spelling():
    import ast

    assert ast.unparse(torch_ast(parse_equation("h = max(u, v)").expr, 0)) == (
        "torch.maximum(u, v)"
    )
    _, given, graph = _graph(NETWORKS["max with a tie"])
    code = NumpyCode(graph)
    env = {"np": np, **{k: v.copy() for k, v in given.items()}}
    exec("\n".join(code.forward_lines() + code.backward_lines()), env)
    trace = solve(graph, given, Rounding(6), exact=False)
    np.testing.assert_allclose(env["dv"], np.array(trace.grads["v"], dtype=float))


def test_no_max_ties_rejects_equal_operands_and_no_pool_ties_does_not():
    """A tie splits the gradient in half: a fair variant has none. no_max_ties is the
    constraint max and min answer through their `tied` hook (no_pool_ties is max-pool's)."""
    from exgen.build.variants import violations

    for case, broken in (
        ("max with a tie", ["no_max_ties"]),  # u₁ = v₁ = 2
        ("min then max", ["no_max_ties"]),  # the same tie, in min
        ("smooth around", []),
    ):
        _, given, graph = _graph(NETWORKS[case])
        trace = solve(graph, given, Rounding(2))
        assert violations(trace, ["no_max_ties", "no_pool_ties"]) == broken, case
    # a scalar broadcast against a matrix ties where any entry equals it
    _, given, graph = _graph(NETWORKS["a scalar broadcast"], dict(GIVEN, s=np.array([[2.0]])))
    assert violations(solve(graph, given, Rounding(2)), ["no_max_ties"]) == ["no_max_ties"]


TIES_SHEET = """title: t
variants:
  seed: s
  draw:
    a: {integers: [0, 2]}
    b: {integers: [0, 2]}
  require: [no_max_ties]
exercises:
  - id: e
    title: e
    network:
      equations: ["h = max(a, w * b)", "g = min(h, c)", "L = 0.5 * sum((g - t) ** 2)"]
      loss: L
      params: [w]
    values: {a: [0, 1], b: [1, 0], w: 1, c: 1.5, t: [0, 0]}
    ask: [backward]
"""


def test_variants_with_no_max_ties_draw_again_until_no_operands_are_equal(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from exgen.cli import main

    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "d.yaml").write_text(TIES_SHEET)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "d", "--variants", "12", "--no-pdf"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out/d/manifest.json").read_text())
    for student in manifest["students"]:
        a, b = (np.array(student["drawn"]["e"][k], dtype=float) for k in ("a", "b"))
        assert not np.any(a == b), student  # max(a, w·b) with w = 1 (min(h, 1.5) never ties)
    # with 0, 1 or 2 drawn for each of two pairs, over half the first draws tie somewhere
    assert sum(s["redraws"].get("no_max_ties", 0) for s in manifest["students"]) > 0

"""The engine against independent oracles: an exact dual-number evaluator, central
finite differences, and PyTorch autograd when it is installed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from netgen import random_network
from oracle import values_and_gradients

from exgen.define.load import to_array
from exgen.engine.equations import parse_equation
from exgen.engine.graph import compile_graph
from exgen.engine.rounding import Rounding, shown_array
from exgen.engine.solve import solve


def compile_random(seed, rational, batch=None):
    texts, given, loss, params = random_network(seed, rational, batch)
    equations = [parse_equation(t) for t in texts]
    arrays = {k: to_array(v, k) for k, v in given.items()}
    return equations, given, compile_graph(equations, arrays, loss, params), arrays


def as2d(value):
    a = np.array(value, dtype=object)
    return a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)


def half_up(x: Fraction, digits: int) -> str:
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x.numerator) / Decimal(x.denominator)
        text = str(d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    return text[1:] if text.startswith("-") and set(text[1:]) <= set("0.") else text


@pytest.mark.parametrize("seed", range(60))
def test_rational_networks_are_exact(seed):
    equations, given, graph, arrays = compile_random(seed, rational=True)
    assert graph.exact
    trace = solve(graph, arrays, Rounding(2, carry=False))
    values, grads = values_and_gradients(equations, given, "L")
    for eq in equations:
        assert (trace.values[eq.target] == as2d(values[eq.target])).all(), eq.source
        expected = [[half_up(Fraction(v), 2) for v in row] for row in values[eq.target]]
        assert shown_array(trace.values[eq.target], 2).tolist() == expected
    for name in given:
        if name not in trace.grads:  # off every path to the loss
            assert all(g == 0 for row in grads[name] for g in row)
            continue
        assert (trace.grads[name] == as2d(grads[name])).all(), name
        expected = [[half_up(Fraction(v), 3) for v in row] for row in grads[name]]
        assert shown_array(trace.grads[name], 3).tolist() == expected


@pytest.mark.parametrize("seed", range(60))
def test_float_networks_match_dual_numbers(seed):
    equations, given, graph, arrays = compile_random(seed, rational=False)
    trace = solve(graph, arrays, Rounding(2, carry=False))
    values, grads = values_and_gradients(equations, given, "L")
    for eq in equations:
        np.testing.assert_allclose(
            trace.values[eq.target].astype(float),
            np.array(values[eq.target], dtype=float),
            rtol=1e-9,
            atol=1e-12,
        )
    for name in given:
        if name not in trace.grads:
            assert all(g == 0 for row in grads[name] for g in row)
            continue
        np.testing.assert_allclose(
            trace.grads[name].astype(float),
            np.array(grads[name], dtype=float),
            rtol=1e-9,
            atol=1e-12,
        )


def loss_at(graph, arrays, name, index, h):
    shifted = dict(arrays)
    a = np.array(arrays[name], dtype=float)
    a[np.unravel_index(index, a.shape)] += h
    shifted[name] = a
    return float(solve(graph, shifted, Rounding(2), exact=False).values[graph.loss][0, 0])


@pytest.mark.parametrize("seed", range(0, 40, 3))
@pytest.mark.parametrize("rational", [True, False])
def test_gradients_match_central_differences(seed, rational):
    _, _, graph, arrays = compile_random(seed, rational)
    trace = solve(graph, arrays, Rounding(2), exact=False)
    h = 1e-6
    for name in graph.params:
        if name not in trace.grads:
            continue
        grad = trace.grads[name].astype(float).reshape(-1)
        for i in range(grad.size):
            numeric = (loss_at(graph, arrays, name, i, h) - loss_at(graph, arrays, name, i, -h)) / (
                2 * h
            )
            assert numeric == pytest.approx(grad[i], rel=1e-5, abs=1e-6), (name, i)


OP_CASES = [
    "y = relu(W @ x + b)",
    "y = sigmoid(W @ x)",
    "y = tanh(W @ x - b)",
    "y = exp(0.5 * W @ x)",
    "y = log(1 + (W @ x) ** 2)",
    "y = softmax(W @ x)",
    "y = (W @ x) / (2 + b ** 2)",
    "y = -(W @ x) * b",
    "y = identity(W.T.T @ x)",
    "y = mean(W) * x",
    "y = sum(W @ x) + x",
    "y = (W @ x) ** 3",
]


@pytest.mark.parametrize("equation", OP_CASES)
def test_each_op_against_central_differences(equation):
    equations = [parse_equation(equation), parse_equation("L = 0.5 * sum((y - t) ** 2)")]
    rng = np.random.default_rng(7)
    arrays = {
        "W": rng.normal(size=(3, 3)),
        "x": rng.normal(size=3) + 0.1,
        "b": rng.normal(size=3),
        "t": rng.normal(size=3),
    }
    arrays = {k: v for k, v in arrays.items() if k in equation or k == "t"}
    graph = compile_graph(equations, arrays, "L", [k for k in arrays if k != "t"])
    trace = solve(graph, arrays, Rounding(4))
    h = 1e-6
    for name in graph.params:
        if name not in trace.grads:
            continue
        grad = trace.grads[name].astype(float).reshape(-1)
        for i in range(grad.size):
            numeric = (loss_at(graph, arrays, name, i, h) - loss_at(graph, arrays, name, i, -h)) / (
                2 * h
            )
            assert numeric == pytest.approx(grad[i], rel=1e-6, abs=1e-7)


def test_relu_and_step_derivatives_at_zero_are_zero():
    equations = [parse_equation("L = sum(relu(x)) + sum(step(x))")]
    arrays = {"x": to_array([0, 1, -1], "x")}
    trace = solve(compile_graph(equations, arrays, "L", ["x"]), arrays, Rounding(2))
    assert trace.grads["x"].reshape(-1).tolist() == [0, 1, 0]


def test_broadcast_gradients_sum_over_samples():
    equations = [parse_equation("h = W @ X + b + c"), parse_equation("L = sum(h)")]
    arrays = {
        "W": to_array([[1, 2], [3, 4]], "W"),
        "X": to_array([[1, 2, 3], [4, 5, 6]], "X"),
        "b": to_array([1, 1], "b"),
        "c": to_array(2, "c"),
    }
    trace = solve(compile_graph(equations, arrays, "L", ["W", "b", "c"]), arrays, Rounding(2))
    assert trace.grads["b"].reshape(-1).tolist() == [3, 3]
    assert trace.grads["c"].reshape(-1).tolist() == [6]


def test_row_layout_bias_broadcasts_along_rows():
    equations = [parse_equation("Z = X @ W + B"), parse_equation("L = sum(Z)")]
    arrays = {
        "X": to_array([[1, 2], [3, 4], [5, 6]], "X"),
        "W": to_array([[1, 0], [0, 1]], "W"),
        "B": to_array([10, 20], "B"),
    }
    graph = compile_graph(equations, arrays, "L", ["W", "B"])
    trace = solve(graph, arrays, Rounding(2))
    assert trace.values["Z"].tolist() == [[11, 22], [13, 24], [15, 26]]
    assert trace.grads["B"].reshape(-1).tolist() == [3, 3]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(30))
def test_against_torch_autograd(seed):
    torch = pytest.importorskip("torch")
    from torch_oracle import torch_gradients

    equations, given, graph, arrays = compile_random(seed, rational=seed % 2 == 0)
    trace = solve(graph, arrays, Rounding(2), exact=False)
    loss, grads = torch_gradients(torch, equations, given, "L")
    assert float(trace.values["L"][0, 0]) == pytest.approx(loss, rel=1e-9, abs=1e-12)
    for name, g in grads.items():
        if name not in trace.grads:
            assert not g.any()
            continue
        np.testing.assert_allclose(trace.grads[name].astype(float), g, rtol=1e-9, atol=1e-12)

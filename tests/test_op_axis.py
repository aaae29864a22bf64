"""Keyword arguments in equations (`sum(x, axis=0)`, `softmax(S, axis=1)`): parsed into the
expression, refused when not a number the operation declares, and followed everywhere
downstream — shapes (kept, as keepdims), forward and backward against torch autograd and
central differences, the key's lines, the PyTorch and NumPy code."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from torch_oracle import torch_gradients

from exgen.asks.pytorch import torch_ast
from exgen.engine.equations import EquationError, parse_equation
from exgen.engine.graph import compile_graph
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.notebooks.numpy_code import NumpyCode
from exgen.typeset.forward_steps import Writer
from exgen.typeset.notation import Notation

GIVEN = {
    "Q": np.array([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]]),
    "K": np.array([[0.5, 1.5], [-1.0, 0.25], [1.0, 0.75]]),
    "V": np.array([[1.0, -0.5], [0.5, 2.0], [-1.5, 0.25]]),
    "T": np.array([[0.5, 0.0], [1.0, -1.0], [0.0, 0.5]]),
}
NETWORKS = {
    "softmax rows": ["S = Q @ K.T / 2", "A = softmax(S, axis=1)", "O = A @ V"],
    "softmax columns": ["S = Q @ K.T / 2", "A = softmax(S, axis=0)", "O = A @ V"],
    "sum down columns": ["c = sum(Q * V, axis=0)", "O = K * c"],
    "sum along rows": ["r = sum(Q * V, axis=1)", "O = K * r"],
    "mean down columns": ["c = mean(Q * V, axis=0)", "O = K * c"],
    "mean along rows": ["r = mean(tanh(Q) * V, axis=1)", "O = K * r"],
}


def _graph(lines, layout="column"):
    eqs = [parse_equation(t) for t in [*lines, "L = 0.5 * sum((O - T) ** 2)"]]
    return eqs, compile_graph(eqs, GIVEN, "L", ["Q", "K", "V"], layout)


def test_keywords_ride_on_the_expression():
    expr = parse_equation("A = softmax(S, axis=1)").expr
    assert expr.keywords == (("axis", 1),) and expr.text == "softmax(S, axis=1)"
    assert parse_equation("A = softmax(S)").expr.keywords == ()


@pytest.mark.parametrize(
    "line, message",
    [
        ("a = relu(x, axis=1)", "relu() takes no keywords; found 'axis=' in 'relu(x, axis=1)'"),
        ("a = sum(x, keep=1)", "sum() takes only axis=; found 'keep=' in 'sum(x, keep=1)'"),
        ("a = sum(x, axis=2)", "axis= is 0 or 1 in sum(), found 2 in 'sum(x, axis=2)'"),
        ("a = sum(x, axis=1.0)", "axis= is 0 or 1 in sum(), found 1.0 in 'sum(x, axis=1.0)'"),
        ("a = sum(x, axis=-1)", "axis= is 0 or 1 in sum(), found -1 in 'sum(x, axis=-1)'"),
        ("a = sum(x, axis=k)", "axis= takes a number in sum(), found 'k' in 'sum(x, axis=k)'"),
        (
            "a = sum(x, axis=True)",
            "axis= takes a number in sum(), found True in 'sum(x, axis=True)'",
        ),
        ("a = sum(x, axis='0')", "axis= takes a number in sum(), found '0' in 'sum(x, axis='0')'"),
        (
            "a = sum(x, axis=1 + 0)",
            "axis= takes a number in sum(), found '1 + 0' in 'sum(x, axis=1 + 0)'",
        ),
        ("a = sum(x, **k)", "'**' is not allowed in a call, found 'sum(x, **k)'"),
        ("a = sum(x, axis=0, axis=1)", "a keyword is given twice in 'sum(x, axis=0, axis=1)'"),
    ],
)
def test_keywords_outside_the_declaration_are_refused(line, message):
    with pytest.raises(EquationError) as err:
        parse_equation(line)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "line, shape, rank",
    [("c = sum(Q, axis=0)", (1, 2), 2), ("r = mean(Q, axis=1)", (3, 1), 1)],
)
def test_a_reduction_along_an_axis_keeps_it(line, shape, rank):
    graph = compile_graph([parse_equation(line)], {"Q": GIVEN["Q"]}, line[0], [])
    node = graph.nodes[line[0]]
    assert (node.shape, node.rank) == (shape, rank)


def _central_differences(graph, given, p, h=1e-6):
    out = np.zeros(given[p].shape)
    for idx in np.ndindex(given[p].shape):
        values = []
        for sign in (1, -1):
            moved = {k: v.copy() for k, v in given.items()}
            moved[p][idx] += sign * h
            trace = solve(graph, moved, Rounding(6), exact=False, backward=False)
            values.append(float(trace.values["L"][0, 0]))
        out[idx] = (values[0] - values[1]) / (2 * h)
    return out


@pytest.mark.parametrize("case", sorted(NETWORKS))
@pytest.mark.parametrize("layout", ["column", "row"])
def test_gradients_against_central_differences(case, layout):
    _, graph = _graph(NETWORKS[case], layout)
    trace = solve(graph, GIVEN, Rounding(6), exact=False)
    for p in ("Q", "K", "V"):
        np.testing.assert_allclose(
            np.array(trace.grads[p], dtype=float),
            _central_differences(graph, GIVEN, p),
            rtol=1e-6,
            atol=1e-8,
        )


@pytest.mark.parametrize("case", sorted(NETWORKS))
@pytest.mark.parametrize("layout", ["column", "row"])
def test_values_and_gradients_against_torch(case, layout):
    torch = pytest.importorskip("torch")
    eqs, graph = _graph(NETWORKS[case], layout)
    trace = solve(graph, GIVEN, Rounding(6), exact=False)
    loss, grads = torch_gradients(torch, eqs, GIVEN, "L", layout)
    assert float(trace.values["L"][0, 0]) == pytest.approx(loss, rel=1e-12)
    for p in ("Q", "K", "V"):
        np.testing.assert_allclose(
            np.array(trace.grads[p], dtype=float), grads[p], rtol=1e-9, atol=1e-12
        )


def test_exact_where_rational():
    _, graph = _graph(NETWORKS["mean down columns"])
    assert graph.exact
    exact = solve(graph, GIVEN, Rounding(6))
    floats = solve(graph, GIVEN, Rounding(6), exact=False)
    np.testing.assert_allclose(
        np.array(exact.grads["V"], dtype=float), np.array(floats.grads["V"], dtype=float)
    )


@pytest.mark.parametrize(
    "line, layout, latex",
    [
        ("A = softmax(S, axis=1)", "column", r"\operatorname{softmax}_{n}\left(\mathbf{S}\right)"),
        ("A = softmax(S, axis=0)", "column", r"\operatorname{softmax}\left(\mathbf{S}\right)"),
        ("A = softmax(S, axis=1)", "row", r"\operatorname{softmax}\left(\mathbf{S}\right)"),
        ("A = softmax(S, axis=0)", "row", r"\operatorname{softmax}_{n}\left(\mathbf{S}\right)"),
        ("A = sum(S, axis=0)", "column", r"\sum_{k}"),
        ("A = sum(S, axis=1)", "column", r"\sum_{n}"),
        ("A = mean(S, axis=1)", "column", r"\operatorname{mean}_{n}"),
    ],
)
def test_the_key_writes_the_axis(line, layout, latex):
    given = {"S": GIVEN["Q"] @ GIVEN["K"].T}
    eq = parse_equation(line)
    graph = compile_graph([eq], given, "A", [], layout)
    trace = solve(graph, given, Rounding(2), exact=False, backward=False)
    step = Writer(trace, Notation(graph)).forward_step("A")
    assert step.latex.startswith(r"\mathbf{A} = " + latex)


@pytest.mark.parametrize(
    "line, code",
    [
        ("A = softmax(S, axis=1)", "A = torch.softmax(S, dim=1)"),
        ("A = softmax(S)", "A = torch.softmax(S, dim=0)"),
        ("A = sum(S, axis=0)", "A = torch.sum(S, dim=0, keepdim=True)"),
        ("A = mean(S, axis=1)", "A = torch.mean(S, dim=1, keepdim=True)"),
        ("A = mean(S)", "A = torch.mean(S)"),
    ],
)
def test_pytorch_spelling(line, code):
    eq = parse_equation(line)
    assert f"A = {ast.unparse(torch_ast(eq.expr, 0))}" == code


@pytest.mark.parametrize("case", sorted(NETWORKS))
def test_numpy_code_computes_the_same_gradients(case):
    _, graph = _graph(NETWORKS[case])
    code = NumpyCode(graph)
    env = {"np": np, **{k: v.copy() for k, v in GIVEN.items()}}
    exec("\n".join(code.forward_lines() + code.backward_lines()), env)
    trace = solve(graph, GIVEN, Rounding(6), exact=False)
    for p in ("Q", "K", "V"):
        np.testing.assert_allclose(env[f"d{p}"], np.array(trace.grads[p], dtype=float))

"""Each operation's NumPy spelling and backward (the notebooks' code) against the
operation's own forward and backward, and the generated passes against the engine."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from exgen.define.load import load_sheet
from exgen.engine.ops import REGISTRY, make_op
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.notebooks.numpy_code import NumpyCode, grad_name, rep_shapes
from exgen.notebooks.tasks import problems

RNG = np.random.default_rng(7)
SHAPES = {
    "matmul": [(3, 2), (2, 4)],
    "transpose": [(3, 2)],
    "maxpool": [(5, 4)],
    "avgpool": [(5, 4)],
    "batchnorm": [(3, 4), (3, 1), (3, 1)],
    "layernorm": [(3, 4), (3, 1), (3, 1)],
    "mapsum": [(2, 3, 3)],
    "batchsum": [(2, 3, 2, 2)],
    "flatten": [(2, 3)],
}


def _inputs(name: str):
    op = REGISTRY[name]
    if name in SHAPES:
        shapes = SHAPES[name]
    elif op.elementwise_local or op.arity == 1:
        shapes = [(3, 2)]
    else:
        shapes = [(3, 2), (3, 2)]
    xs = [RNG.uniform(0.2, 1.5, s) * RNG.choice([-1, 1], s) for s in shapes]
    if name in ("log", "sqrt"):
        xs = [np.abs(x) for x in xs]
    return xs


def _run(template: str, values: dict, constants: dict):
    holes = {k: f"v_{k}" for k in values}
    operands = [holes[str(i)] for i in range(sum(k.isdigit() for k in holes))]
    words = {k: v for k, v in holes.items() if not k.isdigit()}
    source = template.format(*operands, **words, **{k: str(v) for k, v in constants.items()})
    return eval(source, {"np": np}, {f"v_{k}": v for k, v in values.items()})


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_numpy_spelling_computes_the_operation(name):
    op = make_op(name, Fraction(3)) if name == "pow" else make_op(name)
    xs = _inputs(name)
    out = op.forward(*xs)
    constants = op.code_constants()
    mine = _run(op.numpy, {str(i): x for i, x in enumerate(xs)}, constants)
    assert np.allclose(np.reshape(mine, np.shape(out)), out.astype(float))
    g = RNG.normal(size=np.shape(out))
    values = {str(i): x for i, x in enumerate(xs)} | {"out": out, "g": g}
    constants = dict(constants, n=xs[0].size)
    if op.elementwise_local:
        local = _run(op.numpy_grad[0], values, constants)
        assert np.allclose(g * local, g * op.local(xs[0], out))
        return
    expected = op.backward(g, xs, out)
    assert len(op.numpy_grad) == len(xs)
    for template, want in zip(op.numpy_grad, expected):
        got = _run(template, values, constants)
        assert np.allclose(np.broadcast_to(got, want.shape), want), template


@pytest.mark.parametrize(
    "sheet",
    [
        "sheet9",
        "hw2-numpy-backprop",
        "hw4-residual-softmax",
        "sheet11-logic-chain-rule",
        "batchnorm",
    ],
)
def test_generated_passes_give_the_engines_values(sheet):
    checked = 0
    for ex in load_sheet(sheet).exercises:
        if ex.design is not None:
            continue
        if any(k is None for k, _ in problems(ex.graph, ["forward"])):
            continue  # a network no notebook takes (images, batches): refused at load
        checked += 1
        code = NumpyCode(ex.graph)
        shapes = rep_shapes(ex.graph)
        scope = {"np": np}
        for name, node in ex.graph.nodes.items():
            if node.kind == "given":
                scope[name] = np.reshape(np.asarray(ex.given[name], dtype=float), shapes[name])
        exec("\n".join(code.forward_lines() + code.backward_lines()), scope)
        trace = solve(ex.graph, ex.given, Rounding(8, carry=False), exact=False)
        for eq in ex.graph.equations:
            assert np.allclose(
                np.reshape(scope[eq.target], -1), trace.values[eq.target].reshape(-1)
            )
        for p in ex.graph.params:
            got = np.reshape(scope[grad_name(p)], shapes[p])
            want = np.reshape(trace.grads[p].astype(float), shapes[p])
            assert np.allclose(got, want, rtol=1e-10, atol=1e-14), (sheet, ex.spec.id, p)
    assert checked


def test_backward_reads_as_a_person_writes_it():
    ex = load_sheet("sheet11-logic-chain-rule").exercises[-1]
    lines = NumpyCode(ex.graph).backward_lines()
    assert lines[:4] == [
        "dY = 1 / 3 * (2 * (Y - T))",
        "dB4 = np.sum(dY, axis=0)",
        "dW4 = A3.T @ dY",
        "dA3 = dY @ W4.T",
    ]
    assert "dZ3 = dA3 * (Z3 > 0)" in lines

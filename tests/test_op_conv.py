"""conv2d(x, k, stride, padding): a one-channel image cross-correlated with a kernel, as
PyTorch's F.conv2d; exact; its backward against autograd and central differences, its
shape check, its NumPy and PyTorch spellings, and the key's worked window sum."""

from __future__ import annotations

import ast
from fractions import Fraction

import numpy as np
import pytest

from exgen.asks.pytorch import torch_ast
from exgen.engine.equations import EquationError, parse_equation
from exgen.engine.graph import GraphError, compile_graph
from exgen.engine.ops import make_op
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.notebooks.numpy_code import NumpyCode
from exgen.typeset.forward_steps import Writer
from exgen.typeset.latex import latex
from exgen.typeset.notation import Notation

RNG = np.random.default_rng(12)
CASES = [
    (h, w, kh, kw, s, p)
    for (h, w, kh, kw) in [(5, 5, 3, 3), (4, 6, 2, 3), (6, 5, 3, 1), (3, 3, 3, 3)]
    for s in (1, 2)
    for p in (0, 1)
]


def _conv(stride=1, padding=0):
    return make_op("conv2d", keywords={"stride": stride, "padding": padding})


@pytest.mark.parametrize("h, w, kh, kw, s, p", CASES)
def test_forward_and_backward_against_torch(h, w, kh, kw, s, p):
    torch = pytest.importorskip("torch")
    x, k = RNG.normal(size=(h, w)), RNG.normal(size=(kh, kw))
    op = _conv(s, p)
    out = op.forward(x, k)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    kt = torch.tensor(k, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.conv2d(xt[None, None], kt[None, None], stride=s, padding=p)[0, 0]
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.normal(size=out.shape)
    (ref * torch.tensor(g)).sum().backward()
    dx, dk = op.backward(g, (x, k), out)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dk, kt.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("h, w, kh, kw, s, p", CASES)
def test_backward_against_central_differences(h, w, kh, kw, s, p):
    x, k = RNG.normal(size=(h, w)), RNG.normal(size=(kh, kw))
    op = _conv(s, p)
    g = RNG.normal(size=op.forward(x, k).shape)
    dx, dk = op.backward(g, (x, k), op.forward(x, k))
    for value, grad, which in ((x, dx, 0), (k, dk, 1)):
        numeric = np.zeros(value.shape)
        for idx in np.ndindex(value.shape):
            sides = []
            for sign in (1, -1):
                moved = [x.copy(), k.copy()]
                moved[which][idx] += sign * 1e-6
                sides.append(float((g * op.forward(*moved)).sum()))
            numeric[idx] = (sides[0] - sides[1]) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("h, w, kh, kw, s, p", CASES)
def test_exact_in_fractions(h, w, kh, kw, s, p):
    x = RNG.integers(-3, 4, size=(h, w)).astype(float) / 2
    k = RNG.integers(-2, 3, size=(kh, kw)).astype(float)
    op = _conv(s, p)
    out = op.forward(x, k)
    g = RNG.integers(-2, 3, size=out.shape).astype(float)
    as_fractions = [np.vectorize(Fraction, otypes=[object])(a) for a in (x, k, g)]
    exact = op.forward(*as_fractions[:2])
    dx, dk = op.backward(as_fractions[2], tuple(as_fractions[:2]), exact)
    for mine, want in ((exact, out), (dx, op.backward(g, (x, k), out)[0])):
        assert mine.dtype == object and all(isinstance(v, Fraction) for v in mine.ravel())
        assert np.array_equal(mine.astype(float), want)
    assert all(isinstance(v, Fraction) for v in dk.ravel())


def _graph(lines, given):
    eqs = [parse_equation(t) for t in lines]
    return eqs, compile_graph(eqs, given, "L", ["K"])


def test_a_kernel_that_does_not_fit_is_refused_by_name():
    given = {"x": np.zeros((2, 2)), "K": np.zeros((3, 3)), "t": np.zeros((1, 1))}
    with pytest.raises(GraphError) as err:
        _graph(["z = conv2d(x, K, stride=2)", "L = sum((z - t) ** 2)"], given)
    assert str(err.value) == "kernel 3×3 does not fit conv2d(x, K, stride=2) on a 2×2 image"
    assert err.value.blame == "K"
    # padding makes room: 2 + 2·1 − 3 = 1, one output entry
    _, graph = _graph(["z = conv2d(x, K, padding=1)", "L = sum((z - t) ** 2)"], given)
    assert graph.nodes["z"].shape == (2, 2)


def test_keywords_outside_the_declaration_are_refused():
    with pytest.raises(EquationError, match="stride"):
        parse_equation("z = conv2d(x, K, stride=5)")
    with pytest.raises(EquationError, match="two arguments"):
        parse_equation("z = conv2d(x)")


NETWORK = ["z = conv2d(x, K, stride=2, padding=1) + b", "a = relu(z)", "L = 0.5 * sum(a * a)"]
GIVEN = {
    "x": np.array([[1, 2, 0, 1], [0, 1, 2, 1], [2, 0, 1, 0], [1, 1, 0, 2]], dtype=float),
    "K": np.array([[0, 1, 0], [1, -1, 1], [0, 1, 0]], dtype=float),
    "b": np.array(0.5),
}


def test_pytorch_and_numpy_code_compute_the_key():
    code = ast.unparse(torch_ast(parse_equation(NETWORK[0]).expr, 0))
    assert code == (
        "torch.nn.functional.conv2d(x[None, None], K[None, None], stride=2, padding=1)[0, 0] + b"
    )
    _, graph = _graph(NETWORK, GIVEN)
    graph.params = ("K", "x")
    trace = solve(graph, GIVEN, Rounding(6), exact=False)
    env = {"np": np, **{k: v.copy() for k, v in GIVEN.items()}}
    numpy = NumpyCode(graph)
    exec("\n".join(numpy.forward_lines() + numpy.backward_lines()), env)
    np.testing.assert_allclose(env["z"], np.array(trace.values["z"], dtype=float))
    np.testing.assert_allclose(env["dK"], np.array(trace.grads["K"], dtype=float))
    np.testing.assert_allclose(env["dx"], np.array(trace.grads["x"], dtype=float))


def test_the_key_writes_one_window_out_in_full():
    given = {"x": np.arange(9.0).reshape(3, 3), "K": np.array([[1.0, 0.0], [0.0, -1.0]])}
    eqs = [parse_equation("z = conv2d(x, K)"), parse_equation("L = sum(z)")]
    graph = compile_graph(eqs, given, "L", ["K"])
    trace = solve(graph, given, Rounding(2))
    step = Writer(trace, Notation(graph)).forward_step("z")
    # (z)₁,₁ = 0·1 + 1·0 + 3·0 + 4·(−1) = −4: the window times the kernel, term by term
    assert latex(step.note).endswith(
        r"= 0 \cdot 1 + 1 \cdot 0 + 3 \cdot 0 + 4 \cdot \left(-1\right) = -4.00"
    )
    assert step.note_claims  # and key.json records it for the step checker

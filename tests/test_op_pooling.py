"""maxpool(x, size=2, stride=size) and avgpool(x, size=2, stride=size) of a one-channel
H×W map, as PyTorch's max_pool2d/avg_pool2d without padding: exact; max routes each
window's gradient to its maximum (the first in row-major order at a tie, as torch),
avg spreads it evenly; checked against torch autograd, central differences and exact
Fractions, and the key writes the argmax mask and the tie rule."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from torch_oracle import torch_gradients

from exgen.engine.equations import parse_equation
from exgen.engine.graph import GraphError, compile_graph
from exgen.engine.ops import make_op
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.typeset.backward_steps import BackwardWriter
from exgen.typeset.notation import Notation

RNG = np.random.default_rng(12)
CASES = [
    (kind, size, stride, shape)
    for kind in ("maxpool", "avgpool")
    for size in (2, 3)
    for stride in (1, 2, 3)
    for shape in ((size, size + 2), (5, 4), (7, 6))
]


def _op(kind, size, stride):
    return make_op(kind, keywords={"size": size, "stride": stride})


def _torch(torch, kind, x, g, size, stride):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    pool = getattr(torch.nn.functional, f"{kind[:3]}_pool2d")
    out = pool(t[None, None], size, stride)[0, 0]
    out.backward(torch.tensor(g, dtype=torch.float64))
    return out.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("kind, size, stride, shape", CASES)
def test_forward_and_backward_against_torch(kind, size, stride, shape):
    torch = pytest.importorskip("torch")
    op = _op(kind, size, stride)
    x = RNG.normal(size=shape)
    out = op.forward(x)
    g = RNG.normal(size=out.shape)
    want_out, want_grad = _torch(torch, kind, x, g, size, stride)
    np.testing.assert_allclose(out, want_out, rtol=1e-12)
    np.testing.assert_allclose(op.backward(g, (x,), out)[0], want_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("stride", (1, 2))
@pytest.mark.parametrize("size", (2, 3))
def test_ties_go_to_the_first_maximum_as_in_torch(size, stride):
    torch = pytest.importorskip("torch")
    op = _op("maxpool", size, stride)
    x = RNG.integers(0, 2, size=(6, 6)).astype(float)  # many ties
    out = op.forward(x)
    g = RNG.normal(size=out.shape)
    _, want = _torch(torch, "maxpool", x, g, size, stride)
    np.testing.assert_allclose(op.backward(g, (x,), out)[0], want, rtol=1e-12)
    assert op.tied(x)
    assert not _op("avgpool", size, stride).tied(x)


@pytest.mark.parametrize("kind, size, stride, shape", CASES[::3])
def test_backward_against_central_differences(kind, size, stride, shape):
    op = _op(kind, size, stride)
    x = RNG.permutation(np.arange(np.prod(shape)) / 7.0).reshape(shape)  # no ties
    g = RNG.normal(size=op.forward(x).shape)
    grad = op.backward(g, (x,), op.forward(x))[0]
    h = 1e-6
    numeric = np.zeros(shape)
    for idx in np.ndindex(shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = ((op.forward(up) - op.forward(down)) * g).sum() / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", ("maxpool", "avgpool"))
def test_exact_fractions(kind):
    op = _op(kind, 2, 1)
    x = np.array([[Fraction(n, 3) for n in row] for row in ((1, 5, 2), (4, 3, 0), (2, 2, 6))])
    out = op.forward(x)
    g = np.array([[Fraction(1), Fraction(2)], [Fraction(3), Fraction(-1)]], dtype=object)
    grad = op.backward(g, (x,), out)[0]
    assert all(isinstance(v, Fraction) for v in [*out.ravel(), *grad.ravel()])
    if kind == "maxpool":
        assert [str(v) for v in out.ravel()] == ["5/3", "5/3", "4/3", "2"]
        assert [str(v) for v in grad.ravel()] == ["0", "3", "0", "3", "0", "0", "0", "0", "-1"]
    else:
        assert [str(v) for v in out.ravel()] == ["13/12", "5/6", "11/12", "11/12"]
        assert sum(grad.ravel()) == sum(g.ravel())  # every window's gradient spread, none lost


def _network(pool, x):
    eqs = [
        parse_equation(t)
        for t in ["z = w * x + b", "a = relu(z)", f"p = {pool}", "L = 0.5 * sum((p - t) ** 2)"]
    ]
    out_shape = make_op(eqs[2].expr.op, keywords=dict(eqs[2].expr.keywords)).forward(x).shape
    given = {
        "w": np.array([[Fraction(2)]], dtype=object),
        "b": np.array([[Fraction(-1, 5)]], dtype=object),
        "x": x,
        "t": np.full(out_shape, Fraction(1, 2), dtype=object),
    }
    return eqs, given, compile_graph(eqs, given, "L", ["w", "b"])


X = np.array(
    [
        [Fraction(n, 10) for n in row]
        for row in ((2, 5, -3, 8), (-2, 3, 6, 4), (7, -5, 2, 4), (3, 9, -1, 6))
    ]
)


@pytest.mark.parametrize(
    "pool", ["maxpool(a)", "avgpool(a)", "maxpool(a, size=3, stride=1)", "avgpool(a, stride=1)"]
)
def test_a_network_exact_and_against_torch(pool):
    torch = pytest.importorskip("torch")
    eqs, given, graph = _network(pool, X)
    assert graph.exact
    exact = solve(graph, given, Rounding(6))
    floats = {k: np.array(v, dtype=float) for k, v in given.items()}
    loss, grads = torch_gradients(torch, eqs, floats, "L")
    assert float(exact.values["L"][0, 0]) == pytest.approx(loss, rel=1e-12)
    for p in ("w", "b"):
        np.testing.assert_allclose(np.array(exact.grads[p], dtype=float), grads[p], rtol=1e-9)


@pytest.mark.parametrize(
    "pool, shape, message",
    [
        (
            "maxpool(x, size=3)",
            (2, 4),
            "the 3×3 window of 'maxpool(x, size=3)' does not fit the map x, shape 2×4: "
            "pooling takes H×W maps (alone, in an image C×H×W or in a batch N×C×H×W) of at least 3×3",
        ),
        (
            "avgpool(x)",
            (3,),
            "the 2×2 window of 'avgpool(x)' does not fit the map x (of length 3): "
            "pooling takes H×W maps (alone, in an image C×H×W or in a batch N×C×H×W) of at least 2×2",
        ),
    ],
)
def test_a_window_that_does_not_fit(pool, shape, message):
    eqs = [parse_equation(f"p = {pool}"), parse_equation("L = sum(p)")]
    with pytest.raises(GraphError) as err:
        compile_graph(eqs, {"x": np.zeros(shape)}, "L", ["x"])
    assert str(err.value) == message
    assert err.value.blame == "x"


def test_the_key_writes_the_mask_and_the_tie_rule():
    _, given, graph = _network("maxpool(a)", X)
    trace = solve(graph, given, Rounding(2))
    step = BackwardWriter(trace, Notation(graph)).backward_step(
        "a", [c for c in trace.contributions if c.target == "a"]
    )
    assert r"\otimes" in step.latex
    assert r"\begin{bmatrix}0 & 1 & 0 & 1 \\ 0 & 0 & 0 & 0" in step.latex  # the mask
    assert "first maximum in row-major order" in str(step.note)


def test_no_pool_ties_redraws_a_window_with_two_maxima():
    from exgen.build.variants import violations

    tied = X.copy()
    tied[0, 0] = tied[0, 1]  # the first window's maximum twice
    for pool, x, broken in (
        ("maxpool(a)", X, []),
        ("maxpool(a)", tied, ["no_pool_ties"]),
        ("avgpool(a)", tied, []),  # an average has no maximum to pick
    ):
        _, given, graph = _network(pool, x)
        assert violations(solve(graph, given, Rounding(2)), ["no_pool_ties"]) == broken

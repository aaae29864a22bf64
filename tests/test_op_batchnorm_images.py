"""batchnorm(x, gamma, beta, eps=…) of a batch of images N×C×H×W (issue 12): each
channel normalised over N, H and W in training mode, as F.batch_norm on 4-D input —
against PyTorch autograd in float64 on random shapes and eps, against central
differences; shapes refused at compile with the reason; no_variance_near_zero per
channel; μ, σ² and the backward's sums printed as one value per channel, every line
checked by exgen check (and a wrong one caught)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from exgen.build.variants import violations
from exgen.cli import main
from exgen.engine.equations import parse_equation
from exgen.engine.graph import GraphError, compile_graph
from exgen.engine.ops import make_op
from exgen.engine.ops.normalization import BatchNorm
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.typeset.notation import Notation
from exgen.typeset.steps import solution

RNG = np.random.default_rng(412)
CASES = [
    ((int(RNG.integers(1, 4)), int(RNG.integers(1, 4)), *map(int, RNG.integers(1, 4, 2))), eps)
    for eps in (1e-5, 0.01, 0.5)
    for _ in range(4)
]


def _inputs(shape):
    c = shape[1]
    view = (1, c, 1, 1)  # gamma and beta as the graph computes them (node.views)
    return [RNG.normal(size=shape), RNG.normal(size=view), RNG.normal(size=view)]


@pytest.mark.parametrize("shape, eps", CASES)
def test_forward_and_backward_against_torch(shape, eps):
    torch = pytest.importorskip("torch")
    if shape[0] * shape[2] * shape[3] == 1:
        shape = (2, *shape[1:])  # one value per channel: nothing to normalise over
    op = make_op("batchnorm", keywords={"eps": eps})
    xs = _inputs(shape)
    out = op.forward(*xs)
    g = RNG.normal(size=shape)
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in xs]
    want = torch.nn.functional.batch_norm(
        ts[0], None, None, ts[1].reshape(-1), ts[2].reshape(-1), training=True, eps=eps
    )
    want.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(out, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    for got, t in zip(op.backward(g, xs, out), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape, eps", CASES[::3])
def test_backward_against_central_differences(shape, eps):
    shape = (2, *shape[1:])
    op = make_op("batchnorm", keywords={"eps": eps})
    xs = _inputs(shape)
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


def test_each_channel_is_normalised_over_the_samples_and_the_pixels():
    x = RNG.normal(size=(3, 2, 2, 4))
    out = make_op("batchnorm").forward(x, np.ones((1, 2, 1, 1)), np.zeros((1, 2, 1, 1)))
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)


def _graph(shape, gamma=2, eq="Y = batchnorm(X, g, b)"):
    """The given values and a function compiling the network (X → Y → L)."""
    eqs = [parse_equation(eq), parse_equation("L = sum(Y ** 2)")]
    given = {"X": RNG.normal(size=shape), "g": np.ones(gamma), "b": np.zeros(gamma)}
    return given, lambda: compile_graph(eqs, given, "L", ["g", "b"])


@pytest.mark.parametrize(
    "shape, gamma, eq, message, blame",
    [
        (
            (2, 3, 2, 2),
            2,
            "Y = batchnorm(X, g, b)",
            "g (of length 2) must hold one value per channel in 'batchnorm(X, g, b)': "
            "3 values for X (shape 2×3×2×2)",
            "g",
        ),
        (
            (3, 2, 2),
            3,
            "Y = batchnorm(X, g, b)",
            "'batchnorm(X, g, b)' normalises each channel over a batch of images N×C×H×W; "
            "X has shape 3×2×2, a single image (a batch of one is 1×C×H×W)",
            "X",
        ),
        (
            (2, 2, 2, 2),
            2,
            "Y = layernorm(X, g, b)",
            "'layernorm(X, g, b)' takes scalars, vectors and matrices; X has shape 2×2×2×2 "
            "(flatten(...) turns an image or a batch into a matrix)",
            "X",
        ),
    ],
)
def test_shapes_are_checked_at_compile(shape, gamma, eq, message, blame):
    _, build = _graph(shape, gamma, eq)
    with pytest.raises(GraphError) as err:
        build()
    assert str(err.value) == message
    assert err.value.blame == blame


def test_no_variance_near_zero_per_channel():
    given, build = _graph((2, 2, 1, 2))
    spread = np.array([[[[1.0, -1.0]], [[0.2, 0.4]]], [[[0.5, 0.0]], [[-0.6, 1.0]]]])
    flat = spread.copy()
    flat[:, 1] = [[[0.3, 0.3]], [[0.3, 0.301]]]  # channel 1 hardly varies
    for x, broken in ((spread, []), (flat, ["no_variance_near_zero"])):
        given["X"] = x
        trace = solve(build(), given, Rounding(2))
        assert violations(trace, ["no_variance_near_zero"]) == broken


def test_the_stages_are_one_value_per_channel():
    given, build = _graph((2, 3, 2, 2), gamma=3)
    trace = solve(build(), given, Rounding(2, carry=True))
    stages = trace.stages["Y"]
    for s in ("mean", "var", "sum", "spread"):
        assert stages[s].shape == (3, 1), s
    assert stages["xhat"].shape == stages["grad.xhat"].shape == (2, 3, 2, 2)
    np.testing.assert_allclose(
        stages["mean"].ravel(), np.round(given["X"].mean(axis=(0, 2, 3)), 2), atol=1e-12
    )
    sol = solution(trace, Notation(trace.graph), [("forward", None), ("backward", None)])
    claims = {s.target: s.claims for s in sol.forward + sol.backward}
    assert claims["stage.mean.Y"][0][0].op == "div"  # ∑ₙ,ᵢ,ⱼ X / (N·H·W)
    assert claims["stage.mean.Y"][0][0].args[0].op == "batchsum"


def _sheet(tmp_path, monkeypatch):
    shutil.copytree(Path(__file__).parents[1] / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)


def test_a_wrong_printed_channel_variance_fails_the_check(tmp_path, monkeypatch):
    """σ² printed unbiased (over m − 1) for the images while x̂ used the biased one: the
    σ² and x̂ lines of bn2d fail, the matrix questions still pass."""
    _sheet(tmp_path, monkeypatch)
    original = BatchNorm.staged

    def unbiased(self, xs, carry=lambda a: a):
        out = original(self, xs, carry)
        if np.ndim(xs[0]) == 4:
            m = np.size(xs[0]) // np.shape(xs[0])[1]
            out["var"] = carry(out["var"] * m / (m - 1))
        return out

    monkeypatch.setattr(BatchNorm, "staged", unbiased)
    result = CliRunner().invoke(main, ["check", "batchnorm", "--no-torch"])
    assert result.exit_code == 4, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("bn: ok") for line in lines)
    failed = next(line for line in lines if line.startswith("bn2d:"))
    assert "printed steps FAILED" in failed, failed
    assert "(target stage.var.Y)" in result.output and "(target stage.xhat.Y)" in result.output


CONV_SHEET = """title: BN images
course: Test
rounding: {digits: DIGITS, carry: CARRY}
exercises:
  - id: c
    title: conv and batch norm
    points: 1
    prompt: x
    network:
      equations:
        - Z = conv2d(X, K)
        - Y = batchnorm(Z, gamma, beta, eps=0.01)
        - A = relu(Y)
        - L = 0.5 * sum((A - T) ** 2)
      loss: L
      params: [K, gamma, beta]
    values: VALUES
    ask: [forward, backward]
"""


@pytest.mark.parametrize("carry, digits", (("true", 2), ("false", 3)))
def test_a_convolution_then_batch_norm_passes_every_oracle(tmp_path, monkeypatch, carry, digits):
    """Three filters over a two-channel batch, batch norm per channel and a ReLU: the
    printed lines, central differences and PyTorch's F.batch_norm agree."""
    pytest.importorskip("torch")
    (tmp_path / "exercises").mkdir()
    pick = np.random.default_rng(5).choice
    values = {
        "X": pick([-1, -0.5, 0, 0.5, 1, 1.5], size=(2, 2, 3, 3)),
        "K": pick([-1, -0.5, 0.5, 1], size=(3, 2, 2, 2)),
        "gamma": pick([0.5, 1, 1.5], size=3),
        "beta": pick([-0.5, 0, 0.5], size=3),
        "T": pick([0.0, 1.0], size=(2, 3, 2, 2)),
    }
    text = CONV_SHEET.replace("CARRY", carry).replace("DIGITS", str(digits))
    text = text.replace("VALUES", json.dumps({k: v.tolist() for k, v in values.items()}))
    (tmp_path / "exercises" / "bnconv.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "bnconv"])
    assert result.exit_code == 0, result.output
    assert "printed steps ok" in result.output and "torch autograd ok" in result.output


def test_the_stages_are_written_per_channel_when_the_input_has_no_name():
    """batchnorm(conv2d(X, K), …): the symbols say ∑ₙ,ᵢ,ⱼ too, not a matrix's meanₙ."""
    from exgen.typeset.latex import latex

    eqs = [parse_equation("Y = batchnorm(conv2d(X, K), g, b)"), parse_equation("L = sum(Y ** 2)")]
    given = {
        "X": RNG.normal(size=(2, 1, 3, 3)),
        "K": RNG.normal(size=(2, 1, 2, 2)),
        "g": np.ones(2),
        "b": np.zeros(2),
    }
    graph = compile_graph(eqs, given, "L", ["K", "g", "b"])
    trace = solve(graph, given, Rounding(2, carry=True))
    sol = solution(trace, Notation(graph), [("forward", None), ("backward", None)])
    lines = {s.target: latex(s.lhs) for s in sol.forward + sol.backward}
    for stage in ("sum", "spread"):
        assert lines[f"stage.{stage}.Y"].startswith(r"\sum_{n,i,j}"), lines[f"stage.{stage}.Y"]
    steps = {s.target: s for s in sol.forward}
    assert steps["stage.mean.Y"].claims[0][0].args[0].op == "batchsum"

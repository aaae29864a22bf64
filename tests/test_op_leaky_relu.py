"""leaky_relu (slope 0.01): exact, kinked at 0, and right against finite differences and torch."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from opcheck import (
    gradients_against_central_differences,
    gradients_against_torch,
    local_against_central_differences,
    written,
)

from exgen.engine.ops import make_op


def test_forward_and_local_in_exact_arithmetic():
    op = make_op("leaky_relu")
    x = np.array([[Fraction(-3)], [Fraction(0)], [Fraction(5, 2)]], dtype=object)
    out = op.forward(x)
    assert out.reshape(-1).tolist() == [Fraction(-3, 100), 0, Fraction(5, 2)]
    assert op.local(x, out).reshape(-1).tolist() == [Fraction(1, 100), Fraction(1, 100), 1]
    assert op.rational and op.kinks == (0,)


def test_local_derivative_against_central_differences():
    local_against_central_differences("leaky_relu")


def test_gradients_against_central_differences():
    gradients_against_central_differences("leaky_relu")


def test_gradients_against_torch():
    torch = pytest.importorskip("torch")
    gradients_against_torch("leaky_relu", lambda u: torch.nn.functional.leaky_relu(u, 0.01))


def test_written_in_the_key_in_torch_and_by_the_constraints():
    torch_line, line, broken = written("leaky_relu")
    assert torch_line == "torch.nn.functional.leaky_relu(W @ x + b, 0.01)"
    assert line.startswith(
        r"\mathbf{h} = \operatorname{LReLU}\left(\mathbf{W}\,\mathbf{x} + "
        r"\mathbf{b}\right) = \operatorname{LReLU}\begin{bmatrix}"
    )
    assert broken == []


def test_no_relu_at_zero_applies_to_its_kink():
    from opcheck import network

    from exgen.build.variants import violations
    from exgen.engine.rounding import Rounding
    from exgen.engine.solve import solve

    _, given, graph = network("leaky_relu")
    given = dict(given, b=np.array([[-0.1], [-0.3], [0.2]]))  # W x + b = 0 in the first unit
    given["W"] = np.array([[0.25, 0.5], [1.5, 0.25], [-0.75, 2.0]])
    given["x"] = np.array([[-0.4], [0.4]])
    trace = solve(graph, given, Rounding(2), exact=False)
    assert violations(trace, ["no_relu_at_zero"]) == ["no_relu_at_zero"]

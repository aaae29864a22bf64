"""leaky_relu (slope 0.01): exact, kinked at 0, and right against finite differences and torch."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from opcheck import (
    gradients_against_central_differences,
    gradients_against_torch,
    local_against_central_differences,
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

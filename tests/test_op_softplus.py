"""softplus: log(1 + e^u) without overflow, σ as its derivative, checked like every op."""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import (
    gradients_against_central_differences,
    gradients_against_torch,
    local_against_central_differences,
    written,
)

from exgen.engine.ops import make_op


def test_forward_is_stable_for_large_inputs():
    op = make_op("softplus")
    out = op.forward(np.array([[-800.0], [0.0], [800.0]]))
    np.testing.assert_allclose(out.reshape(-1), [0.0, np.log(2), 800.0])
    assert not op.rational and op.kinks == ()


def test_local_derivative_against_central_differences():
    local_against_central_differences("softplus")


def test_gradients_against_central_differences():
    gradients_against_central_differences("softplus")


def test_gradients_against_torch():
    torch = pytest.importorskip("torch")
    gradients_against_torch("softplus", torch.nn.functional.softplus)


def test_written_in_the_key_in_torch_and_by_the_constraints():
    torch_line, line, broken = written("softplus")
    assert torch_line == "torch.nn.functional.softplus(W @ x + b)"
    assert line.startswith(
        r"\mathbf{h} = \operatorname{softplus}\left(\mathbf{W}\,\mathbf{x} + "
        r"\mathbf{b}\right) = \operatorname{softplus}\begin{bmatrix}"
    )
    assert broken == []  # no kink, no saturation

"""The attention sheet's head written as a textbook works it: a row-wise softmax written
plain in row layout, ∂L/∂Q = ∂L/∂(Q Kᵀ) K (not (Kᵀ)ᵀ), ∂L/∂S through softmax's
p ⊙ (g − ∑ₖ p ⊙ g) along each row; against torch autograd."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from torch_oracle import torch_gradients

from exgen.define.load import load_sheet
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.typeset.backward_steps import BackwardWriter
from exgen.typeset.notation import Notation

SHEET = Path(__file__).parents[1] / "exercises" / "attention.yaml"


@pytest.fixture(scope="module")
def head():
    ex = load_sheet(str(SHEET)).exercises[0]
    trace = solve(ex.graph, ex.given, Rounding(2, carry=True))
    return ex, trace, BackwardWriter(trace, Notation(ex.graph))


def _step(writer, trace, name):
    return writer.backward_step(name, [c for c in trace.contributions if c.target == name])


def test_softmax_is_written_plain_along_the_rows(head):
    _, trace, writer = head
    assert writer.forward_step("A").latex.startswith(
        r"\mathbf{A} = \operatorname{softmax}\left(\mathbf{S}\right)"
    )
    rows = np.array(trace.values["A"], dtype=float).sum(axis=1)
    np.testing.assert_allclose(rows, 1, atol=0.02)  # each row, rounded to 2 decimals
    assert r"\sum_{k}" in _step(writer, trace, "S").latex


def test_the_query_gradient_is_written_with_k_not_its_double_transpose(head):
    _, trace, writer = head
    line = _step(writer, trace, "Q").latex
    assert r"\,\mathbf{K} = " in line and r"^{\top}}^{\top}" not in line


def test_against_torch_autograd(head):
    torch = pytest.importorskip("torch")
    ex, _, _ = head
    floats = solve(ex.graph, ex.given, Rounding(2), exact=False)
    loss, grads = torch_gradients(torch, ex.graph.equations, ex.given, "L", "row")
    assert float(floats.values["L"][0, 0]) == pytest.approx(loss, rel=1e-12)
    for p in ("Q", "K", "V"):
        np.testing.assert_allclose(np.array(floats.grads[p], dtype=float), grads[p], rtol=1e-9)


def test_no_layer_figure_for_an_attention_head():
    """Q Kᵀ multiplies two values that both come from the tokens: no MLP layers to draw."""
    from exgen.render.network_layers import layers_of

    for ex in load_sheet(str(SHEET)).exercises:
        assert layers_of(ex.graph) == []

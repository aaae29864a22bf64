"""Softmax over a layer's units: down each column (column layout, axis 0) or along each
row (row layout, axis 1). Backward, per column: p ⊙ (g − ∑ₖ p ⊙ g)."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Op, register
from exgen.typeset.terms import Spelling, apply, product


@register
class Softmax(Op):
    name = "softmax"
    rational = False
    elementwise_local = False
    in_equations = True
    spelling = Spelling("func", "softmax", r"\operatorname{softmax}")
    torch = "torch.softmax({0}, dim={dim})"
    numpy = "np.exp({0}) / np.sum(np.exp({0}), axis={dim}, keepdims=True)"
    numpy_grad = ("{out} * ({g} - np.sum({g} * {out}, axis={dim}, keepdims=True))",)
    glyph = "softmax"
    architecture = "activation"
    gradient_uses = "input"
    kinks = ()
    saturates = None
    shape_rule = "same"

    def __init__(self, axis: int = 0):
        self.axis = axis

    def code_constants(self) -> dict:
        return {"dim": self.axis}

    def forward(self, x):
        x = x.astype(float)
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, g, xs, out):
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)

    def kwargs(self, ctx):
        return {"axis": 1} if ctx.unit_axis == 1 else {}

    def adjoint(self, i, g, args, out, ctx):
        scalar = ctx.out_rank == 0
        inner = apply("sum", product(out, g, scalar), axis=ctx.unit_axis)
        return product(out, apply("sub", g, inner), scalar)

    def example(self, args, ctx):
        """(p)₁ = exp(h₁) / (exp(h₁) + exp(h₂) + …) over the first sample's units."""
        exps = [apply("exp", a) for a in ctx.extra["units"]]
        total = exps[0]
        for e in exps[1:]:
            total = apply("add", total, e)
        return [apply("div", exps[0], total)]

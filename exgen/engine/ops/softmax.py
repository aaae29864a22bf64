"""Softmax down each column (axis 0) or along each row (axis 1): by default over a layer's
units (the column layout's axis 0, the row layout's 1), else as `softmax(x, axis=…)` says.
Backward, per line: p ⊙ (g − ∑ₖ p ⊙ g)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import Op, register
from exgen.typeset.terms import Spelling, apply, product


@register
class Softmax(Op):
    name = "softmax"
    rational = False
    elementwise_local = False
    in_equations = True
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {"axis": (0, 1)}
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
    tensors = False

    def __init__(self, axis: int = 0):
        self.axis = axis

    @classmethod
    def built(cls, keywords: dict, unit_axis: int) -> Softmax:
        return cls(int(keywords.get("axis", unit_axis)))

    def code_constants(self) -> dict:
        return {"dim": self.axis}

    def forward(self, x):
        x = x.astype(float)
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, g, xs, out):
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)

    def kwargs(self, ctx):
        return {} if self.axis == ctx.unit_axis == 0 else {"axis": self.axis}

    def adjoint(self, i, g, args, out, ctx):
        scalar = ctx.out_rank == 0
        inner = apply("sum", product(out, g, scalar), axis=self.axis)
        return product(out, apply("sub", g, inner), scalar)

    def example(self, args, ctx):
        """(p)₁ = exp(h₁) / (exp(h₁) + exp(h₂) + …) along the entry's line (its column
        for axis 0, its row for axis 1)."""
        exps = [apply("exp", a) for a in ctx.extra["lines"][self.axis]]
        total = exps[0]
        for e in exps[1:]:
            total = apply("add", total, e)
        return [apply("div", exps[0], total)]

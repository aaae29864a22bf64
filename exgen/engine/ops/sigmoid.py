"""The logistic sigmoid σ(u) = 1 / (1 + e^−u); σ′ = σ(1 − σ)."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, register
from exgen.typeset.terms import Spelling, apply, leaf, negated, product


@register
class Sigmoid(Elementwise):
    name = "sigmoid"
    rational = False
    spelling = Spelling("func", "σ", r"\sigma")
    torch = "torch.sigmoid({0})"
    numpy = "1 / (1 + np.exp(-{0}))"
    numpy_grad = ("{out} * (1 - {out})",)
    glyph = "σ"
    architecture = "activation"
    kinks = ()
    saturates = (0.0, 1.0)
    local_note = ""
    local_mask = False

    def forward(self, x):
        x = x.astype(float)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def local(self, x, out):
        return out * (1 - out)

    def local_formula(self, u, out, ctx):
        return product(out, apply("sub", leaf("1"), out), scalar=ctx.out_rank == 0)

    def example(self, args, ctx):
        return [
            self.function(args[0], ctx),
            apply("div", leaf("1"), apply("add", leaf("1"), apply("exp", negated(args[0])))),
        ]

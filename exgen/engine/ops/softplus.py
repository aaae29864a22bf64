"""Softplus: log(1 + e^u), a smooth ReLU; its derivative is σ(u)."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, register
from exgen.typeset.terms import Spelling, apply, leaf


@register
class Softplus(Elementwise):
    name = "softplus"
    rational = False
    spelling = Spelling("func", "softplus", r"\operatorname{softplus}")
    torch = "torch.nn.functional.softplus({0})"
    numpy = "np.log(1 + np.exp({0}))"
    numpy_grad = ("1 / (1 + np.exp(-{0}))",)
    glyph = "softplus"
    architecture = "activation"
    kinks = ()
    saturates = None
    local_note = ""
    local_mask = False

    def forward(self, x):
        x = x.astype(float)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))  # no overflow for large u

    def local(self, x, out):
        x = x.astype(float)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def local_formula(self, u, out, ctx):
        return apply("sigmoid", u)

    def example(self, args, ctx):
        return [
            self.function(args[0], ctx),
            apply("log", apply("add", leaf("1"), apply("exp", args[0]))),
        ]

"""Leaky ReLU with slope 0.01: u where u > 0, else 0.01·u; its derivative 1 or 0.01."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from exgen.engine.ops.base import Elementwise, like, register
from exgen.language import N_
from exgen.typeset.terms import Call, Spelling, leaf, product

SLOPE = Fraction(1, 100)


@register
class LeakyRelu(Elementwise):
    name = "leaky_relu"
    rational = True
    spelling = Spelling("func", "LReLU", r"\operatorname{LReLU}")
    torch = "torch.nn.functional.leaky_relu({0}, 0.01)"
    numpy = "np.where({0} > 0, {0}, 0.01 * {0})"
    numpy_grad = ("np.where({0} > 0, 1.0, 0.01)",)
    glyph = "LReLU"
    architecture = "activation"
    kinks = (0,)
    saturates = None
    local_note = N_(" (1 where the input is > 0, else 0.01)")
    local_mask = True

    def _slope(self, x):
        return SLOPE if x.dtype == object else float(SLOPE)

    def forward(self, x):
        return np.where(x > 0, x, x * self._slope(x))

    def local(self, x, out):
        return np.where(
            x > 0,
            like(x, np.ones(x.shape, dtype=int)),
            like(x, np.ones(x.shape, dtype=int)) * self._slope(x),
        )

    def local_formula(self, u, out, ctx):
        return Call("LReLU′", (u,), r"\operatorname{LReLU}'")

    def example(self, args, ctx):
        return [
            self.function(args[0], ctx),
            Call("max", (product(leaf("0.01"), args[0], scalar=True), args[0]), r"\max"),
        ]

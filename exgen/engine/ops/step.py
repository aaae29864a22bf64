"""The step function: 1 where u > 0, else 0; its derivative 0 (a jump at 0)."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, like, register
from exgen.language import N_
from exgen.typeset.terms import Call, Spelling


@register
class Step(Elementwise):
    name = "step"
    rational = True
    spelling = Spelling("func", "step", r"\operatorname{step}")
    torch = "({0} > 0).double()"
    numpy = "({0} > 0) * 1.0"
    numpy_grad = ("0 * {0}",)
    glyph = "step"
    architecture = "activation"
    kinks = (0,)
    saturates = None
    local_note = N_(" (0 everywhere but at the jump)")
    local_mask = True

    def forward(self, x):
        return like(x, (x > 0).astype(int))

    def local(self, x, out):
        return like(x, np.zeros(x.shape, dtype=int))  # step' = 0

    def local_formula(self, u, out, ctx):
        return Call("step′", (u,), r"\operatorname{step}'")

    def example(self, args, ctx):
        return [self.function(args[0], ctx)]

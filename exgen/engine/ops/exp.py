"""The exponential; exp′ = exp."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, register
from exgen.typeset.terms import Spelling


@register
class Exp(Elementwise):
    name = "exp"
    rational = False
    spelling = Spelling("func", "exp", r"\exp")
    torch = "torch.exp({0})"
    numpy = "np.exp({0})"
    numpy_grad = ("{out}",)
    glyph = "exp"
    architecture = "activation"
    kinks = ()
    saturates = None
    local_note = None
    local_mask = False

    def forward(self, x):
        return np.exp(x.astype(float))

    def local(self, x, out):
        return out.copy()

    def local_formula(self, u, out, ctx):
        return out

    def example(self, args, ctx):
        return [self.function(args[0], ctx)]

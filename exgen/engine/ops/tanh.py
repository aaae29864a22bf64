"""tanh; tanh′ = 1 − tanh²."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, register
from exgen.typeset.terms import Spelling, apply, leaf


@register
class Tanh(Elementwise):
    name = "tanh"
    rational = False
    spelling = Spelling("func", "tanh", r"\tanh")
    torch = "torch.tanh({0})"
    numpy = "np.tanh({0})"
    numpy_grad = ("1 - {out} ** 2",)
    glyph = "tanh"
    architecture = "activation"
    kinks = ()
    saturates = (-1.0, 1.0)
    local_note = ""
    local_mask = False

    def forward(self, x):
        return np.tanh(x.astype(float))

    def local(self, x, out):
        return 1 - out * out

    def local_formula(self, u, out, ctx):
        return apply("sub", leaf("1"), apply("pow", out, leaf("2")))

    def example(self, args, ctx):
        return [self.function(args[0], ctx)]

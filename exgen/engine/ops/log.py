"""The natural logarithm; log′(u) = 1/u."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, register
from exgen.typeset.terms import Spelling, apply, leaf


@register
class Log(Elementwise):
    name = "log"
    rational = False
    spelling = Spelling("func", "log", r"\log")
    torch = "torch.log({0})"
    numpy = "np.log({0})"
    numpy_grad = ("1 / {0}",)
    glyph = "log"
    architecture = None
    kinks = ()
    saturates = None
    local_note = None
    local_mask = False

    def forward(self, x):
        return np.log(x.astype(float))

    def local(self, x, out):
        return 1 / x.astype(float)

    def local_formula(self, u, out, ctx):
        return apply("div", leaf("1"), u)

    def domain_message(self, text: str, reason: str) -> str:
        return f"'{text}' takes the log of a value ≤ 0"

    def example(self, args, ctx):
        return [self.function(args[0], ctx)]

"""The square root; √′(u) = 1/(2√u), set as a radical (√ with a bar over its argument).

Defined for u ≥ 0, but its derivative is infinite at 0: like log's, its domain in a
network is u > 0, and the solve refuses the rest (engine/solve.py)."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, register
from exgen.typeset.terms import Spelling, apply, leaf


@register
class Sqrt(Elementwise):
    name = "sqrt"
    rational = False
    spelling = Spelling("radical", "√", r"\sqrt", prec=8)  # bracketed under a power: (√u)²
    torch = "torch.sqrt({0})"
    numpy = "np.sqrt({0})"
    numpy_grad = ("1 / (2 * {out})",)
    glyph = "√"
    architecture = None
    kinks = ()  # no jump: at 0 the derivative is infinite, and the solve refuses u ≤ 0
    saturates = None
    local_note = ""
    local_mask = False

    def forward(self, x):
        return np.sqrt(x.astype(float))

    def local(self, x, out):
        return 1 / (2 * out.astype(float))

    def local_formula(self, u, out, ctx):
        return apply("div", leaf("1"), apply("mul", leaf("2"), apply("sqrt", u), style="scalar"))

    def domain_message(self, text: str, reason: str) -> str:
        if "divide" in reason:
            return f"'{text}' takes the square root of 0, where its derivative is infinite"
        return f"'{text}' takes the square root of a value < 0"

    def example(self, args, ctx):
        return [self.function(args[0], ctx)]

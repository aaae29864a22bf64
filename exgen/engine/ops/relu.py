"""ReLU: max(0, u); its derivative the mask 1 where u > 0 (ReLU′(0) = 0, a kink)."""

from __future__ import annotations

import numpy as np

from exgen.engine.ops.base import Elementwise, like, register
from exgen.language import N_
from exgen.typeset.terms import Call, Spelling, leaf


@register
class Relu(Elementwise):
    name = "relu"
    rational = True
    spelling = Spelling("func", "ReLU", r"\operatorname{ReLU}")
    torch = "torch.relu({0})"
    numpy = "np.maximum(0, {0})"
    numpy_grad = ("({0} > 0)",)
    glyph = "ReLU"
    architecture = "activation"
    kinks = (0,)
    saturates = None
    local_note = N_(" (1 where the input is > 0, else 0)")
    local_mask = True

    def forward(self, x):
        return np.where(x > 0, x, like(x, np.zeros(x.shape, dtype=int)))

    def local(self, x, out):
        return like(x, (x > 0).astype(int))  # relu'(0) = 0

    def local_formula(self, u, out, ctx):
        return Call("ReLU′", (u,), r"\operatorname{ReLU}'")

    def example(self, args, ctx):
        return [self.function(args[0], ctx), Call("max", (leaf("0"), args[0]), r"\max")]

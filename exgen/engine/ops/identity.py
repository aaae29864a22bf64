"""The identity (a linear output, or `h = z` naming a value): the gradient passes through."""

from __future__ import annotations

from typing import ClassVar

from exgen.engine.ops.base import Op, register
from exgen.typeset.terms import Spelling


@register
class Identity(Op):
    name = "identity"
    rational = True
    elementwise_local = False
    in_equations = True
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("func", "id", r"\operatorname{id}")
    torch = "{0}"
    numpy = "{0}"
    numpy_grad = ("{g}",)
    glyph = "id"
    architecture = "activation"
    gradient_uses = "none"
    kinks = ()
    saturates = None
    shape_rule = "same"
    tensors = True

    def forward(self, x):
        return x.copy()

    def backward(self, g, xs, out):
        return (g,)

    def adjoint(self, i, g, args, out, ctx):
        return g

    def example(self, args, ctx):
        return None

"""flatten(x): a map H×W or one image C×H×W becomes a column vector of its entries in
row-major order (as torch.flatten); a batch N×C×H×W becomes a (C·H·W)×N matrix, one
sample per column (the column layout). Rational. Its backward puts the gradient's
entries back in the input's shape: unflatten, the inverse."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import Misfit, Op, register
from exgen.language import N_
from exgen.typeset.terms import Call, Leaf, Spelling, printed_rows


def _code(batch: bool) -> tuple[str, str, tuple[str]]:
    """The PyTorch and NumPy spellings and the NumPy backward, for one sample or a batch."""
    if batch:
        return (
            "{0}.flatten(1).T",
            "{0}.reshape({0}.shape[0], -1).T",
            ("{g}.T.reshape({0}.shape)",),
        )
    return "{0}.reshape(-1, 1)", "{0}.reshape(-1, 1)", ("{g}.reshape({0}.shape)",)


@register
class Flatten(Op):
    name = "flatten"
    rational = True
    elementwise_local = False
    in_equations = True
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("func", "flatten", r"\operatorname{flatten}")
    glyph = "flatten"
    architecture = "spatial"
    gradient_uses = "none"
    kinks = ()
    saturates = None
    shape_rule = "own"
    tensors = True
    gradient_note = N_(
        "(unflatten puts the entries back in the shape of the map, row by row: the "
        "inverse of flatten)"
    )
    torch, numpy, numpy_grad = _code(False)

    def shape(self, *shapes: tuple) -> tuple[tuple[int, ...], int]:
        (x,) = shapes
        if len(x) == 2 and x[1] == 1:  # a scalar or a vector: nothing to flatten
            raise Misfit(
                "'{expr}' flattens a map H×W, an image C×H×W or a batch N×C×H×W, not {0} ({d0})",
                blame=0,
            )
        size = int(np.prod(x[-3:] if len(x) == 4 else x))
        if len(x) == 4:  # the spelling follows the input: a batch keeps its samples
            self.torch, self.numpy, self.numpy_grad = _code(True)
            return (size, x[0]), 2
        return (size, 1), 1

    def size_arithmetic(self, *shapes: tuple) -> list[str]:
        """The entries of one sample, multiplied out."""
        (x,) = shapes
        sample = x[-3:] if len(x) == 4 else x
        text = f"{'·'.join(map(str, sample))} = {int(np.prod(sample))} entries"
        return [text + (f", for each of {x[0]} samples" if len(x) == 4 else "")]

    def forward(self, x):
        if x.ndim == 4:
            return x.reshape(x.shape[0], -1).T
        return x.reshape(-1, 1)

    def backward(self, g, xs, out):
        (x,) = xs
        if x.ndim == 4:
            return (g.T.reshape(x.shape),)
        return (g.reshape(x.shape),)

    def adjoint(self, i, g, args, out, ctx):
        if not ctx.extra.get("numeric"):
            return Call("unflatten", (g,), latex=r"\operatorname{unflatten}")
        # with the numbers put in: the printed entries in the input's shape
        (x,) = ctx.extra["operands"]
        (cells,) = self.backward(np.array(g.rows, dtype=object), (x,), None)
        return Leaf(printed_rows(cells), max(x.ndim, 2))

    def example(self, args, ctx):
        return None

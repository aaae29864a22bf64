"""Reductions: the sum and the mean of every entry (or along one axis, kept)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import Op, count, register
from exgen.typeset.formula import Text
from exgen.typeset.terms import Apply, Leaf, Spelling, Symbol, apply, leaf, product

MAX_SUM_TERMS = 8  # a longer sum is written ∑(…) rather than term by term


def _ones(ctx):
    """𝟏 in symbols; with the numbers put in, the ones themselves (exact)."""
    if not ctx.extra.get("numeric"):
        return Symbol(Text("𝟏"), rank=ctx.ranks[0])
    rows, cols = ctx.extra["shape"]
    return Leaf(tuple(tuple("1" for _ in range(cols)) for _ in range(rows)), ctx.ranks[0])


def _terms(arg):
    """The entries of a printed array added one by one, or None when too many."""
    if not isinstance(arg, Leaf) or arg.rank == 0:
        return None
    cells = [c for r in arg.rows for c in r]
    if len(cells) > MAX_SUM_TERMS:
        return None
    total: Leaf | Apply = leaf(cells[0])
    for c in cells[1:]:
        total = apply("add", total, leaf(c))
    return total, len(cells)


class _Reduction(Op):
    rational = True
    elementwise_local = False
    in_equations = True
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {"axis": (0, 1)}
    architecture = None
    gradient_uses = "none"
    kinks = ()
    saturates = None
    shape_rule = "scalar"
    averages: bool  # mean: the backward divides by the count

    def __init__(self, axis: int | None = None):
        self.axis = axis
        if axis is not None:  # the shape keeps the axis (keepdims), and so does the code
            self.shape_rule = f"keep{axis}"
            self.torch = f"torch.{self.name}({{0}}, dim={axis}, keepdim=True)"
            self.numpy = f"np.{self.name}({{0}}, axis={axis}, keepdims=True)"
            per = f" / {{0}}.shape[{axis}]" if self.averages else ""  # g copied along it
            self.numpy_grad = (f"{{g}} * np.ones_like({{0}}){per}",)

    def kwargs(self, ctx):
        return {} if self.axis is None else {"axis": self.axis}

    def _reduce(self, x):
        if self.axis is None:
            return np.array([[x.sum()]], dtype=x.dtype)
        return x.sum(axis=self.axis, keepdims=True)

    def _size(self, x):
        return count(x) if self.axis is None else type(count(x))(x.shape[self.axis])

    def example(self, args, ctx):
        return None


@register
class Sum(_Reduction):
    name = "sum"
    spelling = Spelling("bigop", "∑", r"\sum", 9)
    torch = "torch.sum({0})"
    numpy = "np.sum({0})"
    numpy_grad = ("{g}",)
    glyph = "∑"
    averages = False

    def forward(self, x):
        return self._reduce(x)

    def backward(self, g, xs, out):
        return (np.broadcast_to(g, xs[0].shape).copy(),)

    def substituted(self, args, ctx):
        terms = _terms(args[0]) if self.axis is None else None
        return terms[0] if terms else apply("sum", args[0], **self.kwargs(ctx))

    def adjoint(self, i, g, args, out, ctx):
        return product(g, _ones(ctx), scalar=True)


@register
class Mean(_Reduction):
    name = "mean"
    spelling = Spelling("bigop", "mean", r"\operatorname{mean}", 9)
    torch = "torch.mean({0})"
    numpy = "np.mean({0})"
    numpy_grad = ("{g} / {n}",)
    glyph = "mean"
    averages = True

    def forward(self, x):
        return self._reduce(x) / self._size(x)

    def backward(self, g, xs, out):
        return (np.broadcast_to(g / self._size(xs[0]), xs[0].shape).copy(),)

    def substituted(self, args, ctx):
        terms = _terms(args[0]) if self.axis is None else None
        if terms:
            return apply("div", terms[0], leaf(str(terms[1])))
        return apply("mean", args[0], **self.kwargs(ctx))

    def adjoint(self, i, g, args, out, ctx):
        n = ctx.extra["count"] if self.axis is None else ctx.extra["shape"][self.axis]
        return product(apply("div", g, leaf(str(n))), _ones(ctx), scalar=True)

"""Reductions: the sum and the mean of every entry (or along one axis, kept)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import Op, count, register
from exgen.typeset.formula import Text
from exgen.typeset.terms import (
    Apply,
    Leaf,
    Spelling,
    Symbol,
    apply,
    leaf,
    printed_rows,
    product,
)

MAX_SUM_TERMS = 8  # a longer sum is written ∑(…) rather than term by term


def _ones(ctx):
    """𝟏 in symbols; with the numbers put in, the ones themselves (exact)."""
    if not ctx.extra.get("numeric"):
        return Symbol(Text("𝟏"), rank=ctx.ranks[0])
    return Leaf(printed_rows(np.full(ctx.extra["shape"], "1", dtype=object)), ctx.ranks[0])


def _terms(arg):
    """The entries of a printed array added one by one, or None when too many."""
    if not isinstance(arg, Leaf) or arg.rank == 0:
        return None
    cells = [str(c) for c in np.array(arg.rows, dtype=object).reshape(-1)]
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
    tensors = True
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


def _channel_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis of an image (C×H×W) or a batch (N×C×H×W) but its channels'."""
    return (1, 2) if x.ndim == 3 else (0, 2, 3)


@register
class MapSum(Op):
    """∑ᵢ,ⱼ: an image's (or a batch's) entries summed channel by channel, one value per
    channel as a column: the gradient of a bias added to every position of its channel
    (conv2d(x, K) + b). Not for equations."""

    name = "mapsum"
    rational = True
    elementwise_local = False
    in_equations = False
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("bigop", "∑ᵢ,ⱼ", r"\sum_{i,j}", 9)
    torch = "{0}.sum(dim=(-2, -1)).reshape(-1, {0}.shape[-3]).sum(0)[:, None]"
    numpy = "{0}.sum(axis=(-2, -1)).reshape(-1, {0}.shape[-3]).sum(axis=0)[:, None]"
    numpy_grad = ("np.broadcast_to({g}.reshape(-1, 1, 1), {0}.shape)",)
    glyph = "∑"
    architecture = None
    gradient_uses = "none"
    kinks = ()
    saturates = None
    shape_rule = "own"
    tensors = True

    def shape(self, *shapes: tuple) -> tuple[tuple[int, ...], int]:
        (x,) = shapes
        return (x[-3], 1), 1

    def size_arithmetic(self, *shapes: tuple) -> list[str]:
        (x,) = shapes
        return [f"one value per channel: {x[-3]}"]

    def forward(self, x):
        return x.sum(axis=_channel_axes(x)).reshape(-1, 1)

    def backward(self, g, xs, out):
        (x,) = xs
        view = (-1, 1, 1) if x.ndim == 3 else (1, -1, 1, 1)
        return (np.broadcast_to(g.reshape(view), x.shape).copy(),)

    def adjoint(self, i, g, args, out, ctx):
        return None

    def example(self, args, ctx):
        return None


@register
class BatchSum(MapSum):
    """∑ₙ,ᵢ,ⱼ: a batch's (N×C×H×W) entries summed channel by channel over its samples and
    positions, one value per channel as a column: a per-channel batch norm's sums, and
    the gradient of a bias (or of γ, β) added to every position of its channel in every
    sample. Not for equations."""

    name = "batchsum"
    spelling = Spelling("bigop", "∑ₙ,ᵢ,ⱼ", r"\sum_{n,i,j}", 9)

"""max(a, b) and min(a, b) of two arrays, entry by entry (broadcasting as +): rational.
The gradient goes to the larger (smaller) operand; at a tie it is split in half between
the two, as PyTorch's torch.maximum/torch.minimum do."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import Op, like, register, unbroadcast
from exgen.language import N_
from exgen.typeset.formula import Op as Sign
from exgen.typeset.formula import Paren, Row, Text
from exgen.typeset.terms import Context, Leaf, Spelling, Symbol, product

HALF = Fraction(1, 2)


class _Extremum(Op):
    rational = True
    elementwise_local = False
    in_equations = True
    arity = 2
    keywords: ClassVar[dict[str, tuple]] = {}
    architecture = "data"
    gradient_uses = "input"
    kinks = ()  # a kink where the operands meet, not at a fixed input
    saturates = None
    shape_rule = "broadcast"
    ties = "no_max_ties"
    tensors = True
    wins: str  # the comparison that sends the gradient to the first operand: ">" or "<"

    def _first(self, a, b) -> np.ndarray:
        """Where the gradient goes to the first operand: 1, ½ at a tie, else 0."""
        a, b = np.broadcast_arrays(a, b)
        ahead = a > b if self.wins == ">" else a < b
        share = np.zeros(a.shape, dtype=object)
        share[ahead] = Fraction(1)
        share[a == b] = HALF
        return like(a, share) if a.dtype == object else share.astype(float)

    def tied(self, *xs) -> bool:
        """An entry where the operands are equal: the gradient splits in half there."""
        a, b = np.broadcast_arrays(*xs)
        return bool(np.any(a == b))

    def backward(self, g, xs, out):
        a, b = xs
        first = self._first(a, b)
        return unbroadcast(g * first, a.shape), unbroadcast(g * (1 - first), b.shape)

    def adjoint(self, i, g, args, out, ctx: Context):
        mask: Leaf | Symbol
        if ctx.extra.get("numeric"):
            a, b = ctx.extra["operands"]
            share = self._first(a, b) if i == 0 else 1 - self._first(a, b)
            rows = tuple(tuple(_share_text(x) for x in r) for r in np.atleast_2d(share))
            mask = Leaf(rows, ctx.out_rank)
        else:
            mine, other = (args[0], args[1]) if i == 0 else (args[1], args[0])
            mask = Symbol(  # Iverson's bracket [a > b]: 1 where true, else 0
                Paren(Row((_formula(mine), Sign(self.wins), _formula(other))), "[", "]"),
                rank=ctx.out_rank,
            )
        return product(g, mask, scalar=ctx.out_rank == 0)

    def example(self, args, ctx):
        return [self.substituted(args, Context((0, 0), 0, ctx.layout))]


def _share_text(x) -> str:
    return {Fraction(1): "1", Fraction(0): "0", HALF: "0.5"}[Fraction(x)]


def _formula(term):
    """An operand as written in the mask [a > b]: its symbol."""
    return term.formula if isinstance(term, Symbol) else Text("·")


@register
class Maximum(_Extremum):
    name = "max"
    spelling = Spelling("func", "max", r"\max")
    torch = "torch.maximum({0}, {1})"
    numpy = "np.maximum({0}, {1})"
    numpy_grad = (
        "{g} * np.where({0} > {1}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
        "{g} * np.where({1} > {0}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
    )
    glyph = "max"
    wins = ">"
    gradient_note = N_(
        "([a > b] is 1 where a is the larger entry, 0 where it is not, and ½ at a tie: "
        "the gradient is split in half, as torch.maximum does)"
    )

    def forward(self, a, b):
        return np.where(a >= b, a, b)


@register
class Minimum(_Extremum):
    name = "min"
    spelling = Spelling("func", "min", r"\min")
    torch = "torch.minimum({0}, {1})"
    numpy = "np.minimum({0}, {1})"
    numpy_grad = (
        "{g} * np.where({0} < {1}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
        "{g} * np.where({1} < {0}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
    )
    glyph = "min"
    wins = "<"
    gradient_note = N_(
        "([a < b] is 1 where a is the smaller entry, 0 where it is not, and ½ at a tie: "
        "the gradient is split in half, as torch.minimum does)"
    )

    def forward(self, a, b):
        return np.where(a <= b, a, b)

"""Interval arithmetic for checking a key printed without carried rounding: a printed
number with the key's decimals stands for every value it could have been rounded from.

Endpoints stay exact Fractions through the rational operations (so that a result that
just touches the printed interval is judged exactly) and become float64 only through
exp, log and the like. Deliberately independent of exgen's engine."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

INF = math.inf


def times(a, b):
    """a·b with 0·∞ = 0: a bound that is exactly 0 stays 0 whatever the other factor."""
    if a == 0 or b == 0:
        return Fraction(0)
    return a * b


@dataclass(frozen=True)
class Interval:
    lo: object
    hi: object

    def __add__(self, other):
        o = interval(other)
        return Interval(self.lo + o.lo, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, other):
        o = interval(other)
        return Interval(self.lo - o.hi, self.hi - o.lo)

    def __rsub__(self, other):
        return interval(other) - self

    def __mul__(self, other):
        o = interval(other)
        products = [times(a, b) for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        return Interval(min(products), max(products))

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = interval(other)
        if o.lo <= 0 <= o.hi:  # the divisor may be 0: any quotient is possible
            return Interval(-INF, INF)
        return self * Interval(1 / o.hi, 1 / o.lo)

    def __rtruediv__(self, other):
        return interval(other) / self

    def __neg__(self):
        return Interval(-self.hi, -self.lo)

    def power(self, n: int) -> Interval:
        """x**n for an integer n; an even power of an interval across 0 starts at 0."""
        if n == 0:
            return Interval(Fraction(1), Fraction(1))
        if n < 0:
            return Fraction(1) / self.power(-n)
        a, b = self.lo**n, self.hi**n
        if n % 2 == 1 or self.lo >= 0:
            return Interval(a, b)
        if self.hi <= 0:
            return Interval(b, a)
        return Interval(Fraction(0), max(a, b))

    @property
    def has_float(self) -> bool:
        return isinstance(self.lo, float) or isinstance(self.hi, float)


def interval(x) -> Interval:
    return x if isinstance(x, Interval) else Interval(x, x)


def increasing(f, x: Interval) -> Interval:
    """A non-decreasing function of an interval: its values at the two ends."""
    return Interval(f(x.lo), f(x.hi))


def softmax(entries: list) -> list[Interval]:
    """p_i = 1 / (1 + Σ_{j≠i} exp(h_j − h_i)) rises with h_i and falls with every other
    h_j: its lowest value takes h_i at its low end and the others at their high ends."""
    xs = [interval(e) for e in entries]
    out = []
    for i, xi in enumerate(xs):
        others = [x for j, x in enumerate(xs) if j != i]
        low = 1 / (1 + sum(_exp(float(x.hi) - float(xi.lo)) for x in others))
        high = 1 / (1 + sum(_exp(float(x.lo) - float(xi.hi)) for x in others))
        # ∞ − ∞ (unbounded inputs) says nothing: p_i may then be anything in [0, 1]
        out.append(Interval(0.0 if math.isnan(low) else low, 1.0 if math.isnan(high) else high))
    return out


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF

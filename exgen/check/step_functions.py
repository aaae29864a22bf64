"""The element-wise functions the printed-steps oracle applies to printed numbers, each
on an exact Fraction or on the Interval a printed number stands for without carried
rounding: exact for the rational ones (relu, step, leaky_relu, max, min), float64 for exp,
log, sqrt, sigmoid, tanh and softplus (non-decreasing, so applied to both ends of an
interval), with a StepProblem outside a function's domain. Its own arithmetic on purpose:
nothing from exgen.engine."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from exgen.check import intervals
from exgen.check.intervals import Interval, interval
from exgen.check.printed_numbers import StepProblem, as_array, plain_text


def _exact_or_interval(point):
    """An exact, non-decreasing function: applied to both ends of an interval."""
    return lambda x: intervals.increasing(point, x) if isinstance(x, Interval) else point(x)


def _float(f, domain=None):
    """A float64 function, non-decreasing on its domain (x > lowest, or x >= lowest)."""

    def point(x):
        if domain is not None:
            lowest, closed, what = domain
            if x < lowest or (x == lowest and not closed):
                raise StepProblem(f"{what} of {plain_text(x)}")
        return float(f(float(x)))

    def apply(x):
        if not isinstance(x, Interval):
            return point(x)
        if domain is not None:
            lowest, closed, what = domain
            if x.hi < lowest or (x.hi == lowest and not closed):
                raise StepProblem(
                    f"{what} of a number between {plain_text(x.lo)} and {plain_text(x.hi)}"
                )
            if x.lo < lowest or (x.lo == lowest and not closed):
                return Interval(f(float(lowest)) if closed else -math.inf, point(x.hi))
        return Interval(point(x.lo), point(x.hi))

    return apply


def _relu(x):
    return x if x > 0 else 0.0 if isinstance(x, float) else Fraction(0)  # not 0·x: 0·(−∞)


def _leaky_relu(x):
    return x if x > 0 else x * Fraction(1, 100)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


ELEMENTWISE = {
    "neg": lambda x: -x,
    "identity": lambda x: x,
    "relu": _exact_or_interval(_relu),
    "step": _exact_or_interval(lambda x: Fraction(1) if x > 0 else Fraction(0)),
    "leaky_relu": _exact_or_interval(_leaky_relu),
    "exp": _float(_exp),
    "log": _float(math.log, (0, False, "log")),
    "sqrt": _float(math.sqrt, (0, True, "square root")),
    "sigmoid": _float(lambda x: _sigmoid(x) if math.isfinite(x) else float(x > 0)),
    "tanh": _float(math.tanh),
    "softplus": _float(lambda x: float(np.logaddexp(0.0, x))),
}


def map_entries(f, a: np.ndarray) -> np.ndarray:
    return as_array(np.frompyfunc(f, 1, 1)(a))


def larger(x, y):
    """max of two printed numbers, or of the intervals they stand for."""
    if isinstance(x, Interval) or isinstance(y, Interval):
        x, y = interval(x), interval(y)
        return Interval(max(x.lo, y.lo), max(x.hi, y.hi))
    return max(x, y)


def smaller(x, y):
    if isinstance(x, Interval) or isinstance(y, Interval):
        x, y = interval(x), interval(y)
        return Interval(min(x.lo, y.lo), min(x.hi, y.hi))
    return min(x, y)

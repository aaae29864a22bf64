"""Judging a printed step: the expression worked out again from its printed numbers
(exgen.check.step_arithmetic) set against its printed result. Under carried rounding a
result must be the half-up rounding of the exact value; without carry the printed numbers
stand for intervals and the result's interval must meet the expression's."""

from __future__ import annotations

import json
import math
from fractions import Fraction

from exgen.check import intervals
from exgen.check.intervals import Interval
from exgen.check.printed_numbers import (
    SCIENTIFIC,
    StepProblem,
    fixed_text,
    half_up,
    parse_number,
    plain_text,
    printed_array,
    shape_text,
)
from exgen.check.step_arithmetic import evaluate

FLOAT_SLACK = 1e-12  # float64 results are compared within half a unit plus this


def judge(step: dict, digits: int, carry: bool) -> str | None:
    """None when the step's printed result is what its printed numbers give; otherwise
    what is wrong, in words."""
    if not isinstance(step, dict) or "expr" not in step or "result" not in step:
        return 'a step needs "expr" and "result"'
    try:
        return _judged(step, digits, carry)
    except StepProblem as exc:
        return str(exc)
    except (ArithmeticError, ValueError) as exc:  # beyond float64, or digits beyond printing
        return f"numbers too large to work out ({type(exc).__name__}: {exc})"


def _judged(step: dict, digits: int, carry: bool) -> str | None:
    half = Fraction(1, 2 * 10**digits)
    if carry and "×10" in json.dumps(step, ensure_ascii=False):
        # a number in scientific notation is itself rounded (to its own last digit), so
        # the step is judged by what the printed numbers' rounding allows
        carry = False

    def leaf(text):
        x, decimals = parse_number(text)
        if SCIENTIFIC.fullmatch(text):
            own = Fraction(1, 2) * Fraction(10) ** -decimals
            return Interval(x - own, x + own)
        return Interval(x - half, x + half) if not carry and decimals == digits else x

    value = evaluate(step["expr"], leaf)
    printed = printed_array(step["result"], lambda t: parse_number(t)[0])
    halves = printed_array(
        step["result"],
        lambda t: (
            Fraction(1, 2) * Fraction(10) ** -parse_number(t)[1]
            if SCIENTIFIC.fullmatch(t)
            else half
        ),
    )
    if value.shape != printed.shape and not (value.size == printed.size == 1):
        return (
            f"printed result is {shape_text(printed)}, but the expression gives {shape_text(value)}"
        )
    wrong = []
    for index, (got, shown, own) in enumerate(
        zip(value.reshape(-1), printed.reshape(-1), halves.reshape(-1))
    ):
        problem = (_carried if carry else _interval)(got, shown, digits, own)
        if problem:
            wrong.append(_where(index, printed.shape) + problem)
    if not wrong:
        return None
    more = f" (and {len(wrong) - 1} more wrong entries)" if len(wrong) > 1 else ""
    return wrong[0] + more


def _carried(got, shown: Fraction, digits: int, half: Fraction) -> str | None:
    if isinstance(got, Fraction):
        want = half_up(got, digits)
        if shown == want:
            return None
        return (
            f"printed {fixed_text(shown, digits)}, but the printed numbers give "
            f"{fixed_text(want, digits)} ({plain_text(got)} rounded half-up to {digits} decimals)"
        )
    if math.isfinite(got) and abs(float(shown) - got) <= float(half) + FLOAT_SLACK:
        return None
    want = fixed_text(half_up(Fraction(got), digits), digits) if math.isfinite(got) else str(got)
    return f"printed {fixed_text(shown, digits)}, but the printed numbers give {want} ({got!r} in float64)"


def _interval(got, shown: Fraction, digits: int, half: Fraction) -> str | None:
    span = intervals.interval(got)
    slack = FLOAT_SLACK if span.has_float else 0
    if span.lo <= shown + half + slack and span.hi >= shown - half - slack:
        return None
    gives = (
        plain_text(span.lo)
        if span.lo == span.hi
        else f"{plain_text(span.lo)} to {plain_text(span.hi)}"
    )
    return (
        f"printed {fixed_text(shown, digits)} (from {plain_text(shown - half)} to "
        f"{plain_text(shown + half)}), but the printed numbers give {gives} (each number "
        f"printed with {digits} decimals within ±{plain_text(half)})"
    )


def _where(index: int, shape: tuple) -> str:
    """The entry, counted from 1 as the key does: [i] in a vector, [i,j] in a matrix."""
    if len(shape) < 2 or shape == (1, 1):
        return ""
    i, j = divmod(index, shape[1])
    if shape[1] == 1:
        return f"entry [{i + 1}]: "
    if shape[0] == 1:
        return f"entry [{j + 1}]: "
    return f"entry [{i + 1},{j + 1}]: "

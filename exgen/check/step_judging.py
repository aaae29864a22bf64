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


def judge(step: dict, digits: int, carry: bool, figures: bool = False) -> str | None:
    """None when the step's printed result is what its printed numbers give; otherwise
    what is wrong, in words. With ``figures`` the rule is ``digits`` significant figures."""
    if not isinstance(step, dict) or "expr" not in step or "result" not in step:
        return 'a step needs "expr" and "result"'
    try:
        return (_judged_figures if figures else _judged)(step, digits, carry)
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
    return _compared(
        step,
        value,
        lambda t: _own_half(t) if SCIENTIFIC.fullmatch(t) else half,
        lambda got, shown, own: (_carried if carry else _interval)(got, shown, digits, own),
    )


def _judged_figures(step: dict, figures: int, carry: bool) -> str | None:
    """As _judged, for a key rounded to ``figures`` significant figures: each printed
    number stands for ± half a unit of its own last digit. Without carry a number printed
    with exactly ``figures`` figures is taken for a rounded result (a given number that
    happens to have as many is then judged more loosely, never wrongly)."""

    def leaf(text):
        x, _ = parse_number(text)
        if carry or _figures_in(text) != figures:
            return x
        own = _own_half(text)
        return Interval(x - own, x + own)

    value = evaluate(step["expr"], leaf)
    return _compared(
        step,
        value,
        _own_half,
        lambda got, shown, own: (
            _carried_figures(got, shown, figures, own)
            if carry
            else _interval(got, shown, figures, own, "significant figures")
        ),
    )


def _own_half(text: str) -> Fraction:
    """Half a unit of a printed number's last digit."""
    return Fraction(1, 2) * Fraction(10) ** -parse_number(text)[1]


def _figures_in(text: str) -> int:
    """The significant figures a printed number shows (0.00 shows 3, as 0 to 3 figures)."""
    sci = SCIENTIFIC.fullmatch(text)
    mantissa = sci.group(1) if sci else text
    digits = mantissa.lstrip("-").replace(".", "").lstrip("0")
    return len(digits) if digits else len(mantissa.partition(".")[2]) + 1


def half_up_figures(x: Fraction, figures: int) -> Fraction:
    """x half-up to ``figures`` significant figures, in integers."""
    if not x:
        return x
    n = 0
    while abs(x) >= Fraction(10) ** (n + 1):
        n += 1
    while abs(x) < Fraction(10) ** n:
        n -= 1
    scale = Fraction(10) ** (figures - 1 - n)
    q = int((2 * abs(x) * scale + 1) // 2)
    return Fraction(q if x >= 0 else -q) / scale


def _carried_figures(got, shown: Fraction, figures: int, half: Fraction) -> str | None:
    if isinstance(got, Fraction):
        want = half_up_figures(got, figures)
        if shown == want:
            return None
        return (
            f"printed {plain_text(shown)}, but the printed numbers give {plain_text(want)} "
            f"({plain_text(got)} rounded half-up to {figures} significant figures)"
        )
    if math.isfinite(got) and abs(float(shown) - got) <= float(half) + FLOAT_SLACK:
        return None
    return f"printed {plain_text(shown)}, but the printed numbers give {got!r} in float64"


def _compared(step: dict, value, half_of, problem_of) -> str | None:
    """Each printed entry of the result against the expression's value (``half_of`` a
    printed number: the half unit it stands for)."""
    printed = printed_array(step["result"], lambda t: parse_number(t)[0])
    halves = printed_array(step["result"], half_of)
    if value.shape != printed.shape and not (value.size == printed.size == 1):
        return (
            f"printed result is {shape_text(printed)}, but the expression gives {shape_text(value)}"
        )
    wrong = []
    for index, (got, shown, own) in enumerate(
        zip(value.reshape(-1), printed.reshape(-1), halves.reshape(-1))
    ):
        problem = problem_of(got, shown, own)
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


def _interval(
    got, shown: Fraction, digits: int, half: Fraction, unit: str = "decimals"
) -> str | None:
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
        f"printed with {digits} {unit} within ±{plain_text(half)})"
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

"""The grading policy (`grading:` at sheet level, each key overridable per exercise) and
the comparison of one answer with one expected value, in exact arithmetic."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from exgen.define.schema import TOLERANCES, GradingSpec
from exgen.engine.rounding import parse_shown


@dataclass(frozen=True)
class Policy:
    tolerance: str | None  # one of schema.TOLERANCES; None: rounds to the shown value
    amount: Fraction | None  # the tolerance's number (digits, absolute, relative, figures)
    last_digit: Fraction | None  # credit for one off in the last shown digit
    carried: Fraction  # credit for an answer right from the student's own earlier values
    weights: dict[str, Fraction]
    ecf: bool


def policy_of(sheet: GradingSpec, exercise: GradingSpec | None) -> Policy:
    """The exercise's policy: its own keys over the sheet's (a tolerance of its own
    replaces the sheet's)."""
    merged = sheet.model_dump()
    if exercise is not None:
        own = exercise.model_fields_set
        if own & set(TOLERANCES):
            merged.update(dict.fromkeys(TOLERANCES))
        merged.update({k: getattr(exercise, k) for k in own})
    tolerance = next((t for t in TOLERANCES if merged[t] is not None), None)
    return Policy(
        tolerance=tolerance,
        amount=None if tolerance is None else _exact(merged[tolerance]),
        last_digit=None if merged["last_digit"] is None else _exact(merged["last_digit"]),
        carried=_exact(merged["carried"]),
        weights={k: _exact(w) for k, w in (merged["weights"] or {}).items()},
        ecf=merged["ecf"],
    )


def _exact(x) -> Fraction:
    """A number of the definition as the decimal it was written as (0.1, not 0.1000…0055)."""
    return Fraction(repr(x)) if isinstance(x, float) else Fraction(x)


def rounded_to(x: Fraction, unit: Fraction) -> Fraction:
    """``x`` to a multiple of ``unit``, half-up (ties away from zero)."""
    q = math.floor(abs(x) / unit + Fraction(1, 2))
    return (q if x >= 0 else -q) * unit


def significant(x: Fraction, figures: int) -> Fraction:
    return x if x == 0 else rounded_to(x, _last_figure(x, figures))


def judge(given: Fraction, shown: str, policy: Policy) -> str | None:
    """ "right", "close" (one off in the last shown digit, where the policy credits it)
    or None, for an answer against the value the key shows as ``shown``."""
    expected, half = parse_shown(shown)
    unit = 2 * half
    t, a = policy.tolerance, policy.amount
    if t is None or a is None:  # (a tolerance always has its amount)
        right = rounded_to(given, unit) == expected
    elif t == "digits":
        step = Fraction(1, 10 ** int(a))
        right = rounded_to(given, step) == rounded_to(expected, step)
    elif t == "absolute":
        right = abs(given - expected) <= a
    elif t == "relative":
        right = abs(given - expected) <= a * abs(expected)
    else:
        right = significant(given, int(a)) == significant(expected, int(a))
    if right:
        return "right"
    if policy.last_digit is not None and abs(rounded_to(given, unit) - expected) == unit:
        return "close"
    return None


def right_interval(shown: str, policy: Policy) -> tuple[Fraction, Fraction]:
    """The closed interval of answers ``judge`` calls right (for a platform that checks a
    number against a range; only its ends differ from ``judge``, where a tie rounds away
    from zero: exgen's own grading decides those)."""
    expected, half = parse_shown(shown)
    t, a = policy.tolerance, policy.amount
    if t is None or a is None:
        return expected - half, expected + half
    if t == "digits":
        step = Fraction(1, 10 ** int(a))
        centre = rounded_to(expected, step)
        return centre - step / 2, centre + step / 2
    if t == "absolute":
        return expected - a, expected + a
    if t == "relative":
        return expected - a * abs(expected), expected + a * abs(expected)
    centre = significant(expected, int(a))
    if centre == 0:
        return centre, centre
    unit = _last_figure(centre, int(a))
    return centre - unit / 2, centre + unit / 2


def close_interval(shown: str, policy: Policy) -> tuple[Fraction, Fraction, Fraction] | None:
    """The interval ``judge`` calls close (one off in the last shown digit) and its
    credit, or None where the policy gives no such credit."""
    if policy.last_digit is None:
        return None
    expected, half = parse_shown(shown)
    return expected - 3 * half, expected + 3 * half, policy.last_digit


def _last_figure(x: Fraction, figures: int) -> Fraction:
    """The unit of the last of ``figures`` significant figures of ``x`` (x ≠ 0)."""
    n = 0
    while abs(x) >= Fraction(10) ** (n + 1):
        n += 1
    while abs(x) < Fraction(10) ** n:
        n -= 1
    return Fraction(10) ** (n - figures + 1)

"""Exact and float numbers: conversion, half-up rounding, display strings."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class Rounding:
    """How the key rounds: ``digits`` decimals shown; ``carry`` rounds every
    intermediate before it is used further (as a student computing by hand)."""

    digits: int = 2
    carry: bool = False

    def as_json(self) -> dict:
        return {"digits": self.digits, "carry": self.carry, "mode": "half-up"}


def to_decimal(x) -> Decimal:
    """The decimal value of a number. Floats go through 15 significant digits, so that
    binary noise (8.824999999999999 for 8.825) does not decide a tie."""
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator) if x.denominator != 1 \
            else Decimal(x.numerator)
    if isinstance(x, (int, np.integer)):
        return Decimal(int(x))
    return Decimal(format(float(x), ".15g"))


def _scaled_half_up(n: int, d: int, digits: int) -> int:
    """round(n/d · 10^digits), ties away from zero, in integers."""
    q = (abs(n) * 10 ** digits * 2 + d) // (2 * d)
    return q if n >= 0 else -q


def round_half_up(x, digits: int):
    """Round to ``digits`` decimals, ties away from zero; keeps the number's kind
    (Fraction stays exact, float stays float)."""
    if isinstance(x, (Fraction, int, np.integer)):
        if not isinstance(x, Fraction):
            return Fraction(int(x))
        return Fraction(_scaled_half_up(x.numerator, x.denominator, digits), 10 ** digits)
    quantum = Decimal(1).scaleb(-digits)
    return float(to_decimal(x).quantize(quantum, rounding=ROUND_HALF_UP)) + 0.0  # no -0.0


@lru_cache(maxsize=65536)
def shown(x, digits: int) -> str:
    """The string the key prints: exactly ``digits`` decimals, half-up, never "-0.00"."""
    if isinstance(x, (Fraction, int, np.integer)):
        x = Fraction(int(x)) if not isinstance(x, Fraction) else x
        text = _fixed(_scaled_half_up(x.numerator, x.denominator, digits), digits)
    else:
        text = format(to_decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP), "f")
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]
    return text


def _fixed(q: int, digits: int) -> str:
    """The decimal text of q / 10^digits."""
    n = abs(q)
    sign = "-" if q < 0 else ""
    if digits == 0:
        return f"{sign}{n}"
    whole, frac = divmod(n, 10 ** digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def shown_given(x, digits: int, max_digits: int = 6) -> str:
    """A given value as the sheet states it: its shortest decimal form (0.4, 0.25, 3),
    cut to ``max(digits, max_digits)`` decimals for long numbers."""
    d = to_decimal(x)
    limit = max(digits, max_digits)
    if d != d.quantize(Decimal(1).scaleb(-limit), rounding=ROUND_HALF_UP):
        return shown(x, limit)
    text = format(d.normalize(), "f")
    if text in ("-0", "-0.0"):
        text = "0"
    return text


def is_exact(x) -> bool:
    return isinstance(x, (Fraction, int, np.integer))


def to_float(x) -> float:
    return float(x)


def exact_array(values) -> np.ndarray:
    """An object array of Fractions (exact arithmetic)."""
    arr = np.empty(np.shape(values), dtype=object)
    flat = np.asarray(values, dtype=object).reshape(-1)
    out = arr.reshape(-1)
    for i, v in enumerate(flat):
        out[i] = Fraction(v)
    return arr


def float_array(values) -> np.ndarray:
    return np.asarray(np.vectorize(float, otypes=[float])(np.asarray(values, dtype=object)),
                      dtype=float)


def round_array(arr: np.ndarray, digits: int) -> np.ndarray:
    """Element-wise half-up rounding, keeping exact arrays exact."""
    out = np.empty(arr.shape, dtype=arr.dtype)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = round_half_up(v, digits)
    return out


def shown_array(arr: np.ndarray, digits: int, given: bool = False) -> np.ndarray:
    fmt = shown_given if given else shown
    out = np.empty(arr.shape, dtype=object)
    out.reshape(-1)[:] = [fmt(v, digits) for v in arr.reshape(-1)]
    return out

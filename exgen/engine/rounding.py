"""Exact and float numbers: conversion, half-up rounding, display strings."""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import numpy as np


class Figures(int):
    """A precision in significant figures, passed where a number of decimals is expected:
    ``shown``, ``round_half_up``, ``round_array`` and ``shown_array`` read Figures(3) as
    3 significant figures (0.0123, 123, 1.23×10³). It equals no plain int, so caches and
    comparisons never take 3 figures for 3 decimals."""

    def __eq__(self, other):
        return isinstance(other, Figures) and int(self) == int(other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = int.__hash__

    def __repr__(self) -> str:
        return f"Figures({int(self)})"


@dataclass(frozen=True)
class Rounding:
    """How the key rounds: ``digits`` decimals shown (or a Figures: significant figures);
    ``carry`` rounds every intermediate before it is used further (as a student computing
    by hand)."""

    digits: int = 2
    carry: bool = False

    @property
    def figures(self) -> int | None:
        return int(self.digits) if isinstance(self.digits, Figures) else None

    def as_json(self) -> dict:
        precision = {"figures": self.figures} if self.figures else {"digits": self.digits}
        return {**precision, "carry": self.carry, "mode": "half-up"}


# The magnitude policy, in one place. Numbers a definition gives (values, constants, draw
# rules, options) are finite and at most MAX_GIVEN in magnitude. Computed values may grow
# beyond it, up to MAX_COMPUTED (floats reach 1.8e308, and the key lists every value as a
# float too); an exact value also stays below MAX_EXACT_BITS bits, so that no chain of
# powers makes exact arithmetic run for minutes.
MAX_GIVEN = 10**15
GIVEN_RANGE = "between -1e15 and 1e15"  # MAX_GIVEN as a definition writes it
MAX_COMPUTED = 10**300
MAX_EXACT_BITS = 20_000
# Display: fixed notation while the rounded value is below FIXED_BELOW in magnitude,
# otherwise d.dd×10ⁿ with the key's digits after the point (the same half-up rounding).
FIXED_BELOW = 10**15
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def to_decimal(x) -> Decimal:
    """The decimal value of a number. Floats go through 15 significant digits, so that
    binary noise (8.824999999999999 for 8.825) does not decide a tie."""
    if isinstance(x, Fraction):
        return (
            Decimal(x.numerator) / Decimal(x.denominator)
            if x.denominator != 1
            else Decimal(x.numerator)
        )
    if isinstance(x, (int, np.integer)):
        return Decimal(int(x))
    return Decimal(format(float(x), ".15g"))


def to_fraction(x) -> Fraction:
    """The exact value of a finite number; floats through 15 significant digits (as above)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return Fraction(Decimal(format(float(x), ".15g")))


def within(x, limit: int = MAX_GIVEN) -> bool:
    """Finite and at most ``limit`` in magnitude."""
    if isinstance(x, Fraction):
        return abs(x.numerator) <= limit * x.denominator
    if isinstance(x, (int, np.integer)):
        return abs(int(x)) <= limit
    return bool(np.isfinite(x)) and abs(float(x)) <= limit


def out_of_range(values: np.ndarray) -> str | None:
    """Why a computed array cannot be carried on (too large, or too long exactly), or None."""
    if values.dtype != object:
        return None if np.all(np.abs(values) <= float(MAX_COMPUTED)) else "a value beyond 10³⁰⁰"
    for x in values.reshape(-1):
        if isinstance(x, Fraction):
            if not within(x, MAX_COMPUTED):
                return "a value beyond 10³⁰⁰"
            if x.numerator.bit_length() + x.denominator.bit_length() > MAX_EXACT_BITS:
                return f"exact values longer than {MAX_EXACT_BITS * 3 // 10} digits"
    return None


def _scaled_half_up(n: int, d: int, digits: int) -> int:
    """round(n/d · 10^digits), ties away from zero, in integers."""
    q = (abs(n) * 10**digits * 2 + d) // (2 * d)
    return q if n >= 0 else -q


def _round_places(f: Fraction, places: int) -> Fraction:
    """f half-up to ``places`` decimals; negative places round to tens, hundreds, …"""
    if places >= 0:
        return Fraction(_scaled_half_up(f.numerator, f.denominator, places), 10**places)
    scaled = f / 10**-places
    return Fraction(_scaled_half_up(scaled.numerator, scaled.denominator, 0)) * 10**-places


def _round_figures(f: Fraction, figures: int) -> Fraction:
    """f half-up to ``figures`` significant figures (0.1235 → 0.124, 1234.5 → 1230)."""
    return _round_places(f, figures - 1 - _exponent(f)) if f else f


def round_half_up(x, digits: int):
    """Round to ``digits`` decimals (or to Figures significant figures), ties away from
    zero; keeps the number's kind (Fraction stays exact, float stays float)."""
    if isinstance(digits, Figures):
        if not isinstance(x, (Fraction, int, np.integer)):
            if not np.isfinite(x):
                return float(x)
            return float(_round_figures(to_fraction(x), int(digits))) + 0.0
        return _round_figures(x if isinstance(x, Fraction) else Fraction(int(x)), int(digits))
    if isinstance(x, (Fraction, int, np.integer)):
        if not isinstance(x, Fraction):
            return Fraction(int(x))
        return Fraction(_scaled_half_up(x.numerator, x.denominator, digits), 10**digits)
    if not np.isfinite(x):
        return float(x)
    f = to_fraction(x)
    return float(Fraction(_scaled_half_up(f.numerator, f.denominator, digits), 10**digits)) + 0.0


def _exponent(f: Fraction) -> int:
    """n with 10^n ≤ |f| < 10^(n+1), for f ≠ 0."""
    a = abs(f)
    n = math.floor(math.log10(a.numerator) - math.log10(a.denominator))
    while a >= Fraction(10) ** (n + 1):
        n += 1
    while a < Fraction(10) ** n:
        n -= 1
    return n


def _mantissa_half_up(f: Fraction, n: int, digits: int) -> int:
    """round(f / 10ⁿ · 10^digits), ties away from zero (n may be negative)."""
    scaled = f / Fraction(10) ** n
    return _scaled_half_up(scaled.numerator, scaled.denominator, digits)


def _scientific(f: Fraction, digits: int, trim: bool = False) -> str:
    n = _exponent(f)
    m = _mantissa_half_up(f, n, digits)
    if abs(m) >= 10 ** (digits + 1):  # 9.995×10ⁿ rounds up to 1.00×10ⁿ⁺¹
        n += 1
        m = _mantissa_half_up(f, n, digits)
    mantissa = _fixed(m, digits)
    if trim and "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(n).translate(SUPERSCRIPT)}"


@lru_cache(maxsize=65536)
def shown(x, digits: int) -> str:
    """The string the key prints: ``digits`` decimals, half-up, never "-0.00"; from 10¹⁵ on
    in scientific notation, d.dd×10ⁿ, with ``digits`` decimals in the mantissa."""
    if not isinstance(x, (Fraction, int, np.integer)) and not np.isfinite(x):
        return str(float(x))  # never reached by a solved key: solve refuses non-finite values
    return _shown(to_fraction(x), digits)


# Significant figures: fixed notation while the rounded value has at most ``figures``
# digits before the point and is at least 10⁻⁴ (123, 0.0123), otherwise d.dd×10ⁿ with
# figures − 1 decimals, so that the last printed digit always is the last significant one
# (1234.5 → 1.23×10³; parse_shown then reads ±5 from it). Zero as 0.00 (figures − 1 decimals).
FIGURES_FIXED_FROM = -4


def _shown_figures(f: Fraction, figures: int) -> str:
    if not f:
        return _fixed(0, figures - 1)
    n = _exponent(f)
    m = _mantissa_half_up(f, n, figures - 1)
    if abs(m) >= 10**figures:  # 999.6 → 1.00×10³
        n += 1
        m = _mantissa_half_up(f, n, figures - 1)
    if FIGURES_FIXED_FROM <= n < figures:
        return _fixed(m, figures - 1 - n)
    return f"{_fixed(m, figures - 1)}×10{str(n).translate(SUPERSCRIPT)}"


@lru_cache(maxsize=1 << 16)  # a key prints the same values in many steps
def _shown(f: Fraction, digits: int) -> str:
    if isinstance(digits, Figures):
        return _shown_figures(f, int(digits))
    q = _scaled_half_up(f.numerator, f.denominator, digits)
    text = _fixed(q, digits) if abs(q) < FIXED_BELOW * 10**digits else _scientific(f, digits)
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]
    return text


SCIENTIFIC = re.compile(r"(-?\d+(?:\.(\d+))?)×10([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
FROM_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


# The decimal mark, in one place. Numbers are made with "." (shown, shown_given, and all
# that reads them back); the sheet's mark (decimal: ",") is put in at the presentation
# edge only — the HTML's numbers (typeset/mathhtml.py, mathml.py), the LaTeX of a step
# (latex_number), key.json's shown strings and steps (render/keyjson.py) and the CSV cells
# (build/class_files.py) — by ``marked`` while ``decimal_mark`` holds the sheet's mark.
# Everything that reads a printed number (parse_shown, the printed-steps check, grading)
# takes either mark. With a comma, a list of numbers is separated by ";" (0,5; 1,5).
DECIMAL_MARK: ContextVar[str] = ContextVar("decimal_mark", default=".")
NUMBER_TEXT = re.compile(r"[-−]?\d+\.\d+(?:×10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)?")


@contextmanager
def decimal_mark(mark: str):
    """Numbers presented inside the block use ``mark`` ("." or ",")."""
    token = DECIMAL_MARK.set(mark)
    try:
        yield
    finally:
        DECIMAL_MARK.reset(token)


def marked(text: str) -> str:
    """A printed number (or a cell holding one) with the sheet's decimal mark; any other
    text as it is."""
    if DECIMAL_MARK.get() == "." or not NUMBER_TEXT.fullmatch(text):
        return text
    return text.replace(".", DECIMAL_MARK.get())


def list_separator() -> str:
    """What separates the numbers of an inline list: ";" when the mark is a comma."""
    return ";" if DECIMAL_MARK.get() == "," else ","


def parse_shown(text: str) -> tuple[Fraction, Fraction]:
    """What ``shown`` printed, read back: the value and half a unit of its last digit
    (the most it can be off by); with either decimal mark. Raises ValueError for anything
    else."""
    text = text.replace("−", "-").replace(",", ".")
    sci = SCIENTIFIC.fullmatch(text)
    mantissa, exponent = (
        (sci.group(1), int(sci.group(3).translate(FROM_SUPERSCRIPT))) if sci else (text, 0)
    )
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", mantissa):
        raise ValueError(f"{text!r} is not a number as the key prints it")
    decimals = len(mantissa.partition(".")[2])
    scale = Fraction(10) ** exponent
    return Fraction(mantissa) * scale, Fraction(1, 2 * 10**decimals) * scale


def latex_number(text: str) -> str:
    """A printed number in LaTeX: 1.23×10²⁰ as 1.23 \\times 10^{20}; ASCII minus; a
    decimal comma as {,} (no space after it)."""
    text = text.replace("−", "-")
    sci = SCIENTIFIC.fullmatch(text)
    mark = "{,}" if DECIMAL_MARK.get() == "," else "."
    if not sci:
        return text.replace(".", mark) if NUMBER_TEXT.fullmatch(text) else text
    exponent = sci.group(3).translate(FROM_SUPERSCRIPT)
    return rf"{sci.group(1).replace('.', mark)} \times 10^{{{exponent}}}"


def _fixed(q: int, digits: int) -> str:
    """The decimal text of q / 10^digits."""
    n = abs(q)
    sign = "-" if q < 0 else ""
    if digits == 0:
        return f"{sign}{n}"
    whole, frac = divmod(n, 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def shown_given(x, digits: int, max_digits: int = 6) -> str:
    """A given value as the sheet states it: its shortest decimal form (0.4, 0.25, 3),
    cut to ``max(digits, max_digits)`` decimals for long numbers (and in scientific
    notation from 10¹⁵ on, as ``shown``)."""
    if not isinstance(x, (Fraction, int, np.integer)) and not np.isfinite(x):
        return str(float(x))
    return _shown_given(to_fraction(x), digits, max_digits)


@lru_cache(maxsize=1 << 16)  # a class's variants state the same few given numbers
def _shown_given(f: Fraction, digits: int, max_digits: int) -> str:
    limit = max(int(digits), max_digits)
    if abs(f) >= FIXED_BELOW:
        return _scientific(f, limit, trim=True)
    q = _scaled_half_up(f.numerator, f.denominator, limit)
    if f and abs(f) < Fraction(1, 10**limit):  # ε = 10⁻⁸ as 1×10⁻⁸, not 0.000000
        return _scientific(f, limit, trim=True)
    if Fraction(q, 10**limit) != f:
        return shown(f, limit)
    text = _fixed(q, limit)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "-0.0"):
        text = "0"
    return text


# One format per matrix of full-precision results (a numerical check, …): fixed decimals
# while every non-zero entry lies in [FIXED_FROM, FIXED_BELOW_SIGNIFICANT), else every entry
# in scientific notation d.ddddd×10ⁿ; never the two mixed within one matrix.
FIXED_FROM = Fraction(1, 1000)
FIXED_BELOW_SIGNIFICANT = 10**6


def shown_significant(values, significant: int = 6) -> np.ndarray:
    """A matrix of floats as strings in one format: ``significant`` significant digits
    for its smallest non-zero entry, fixed decimals when all entries are of moderate size
    (then all with the same decimals), otherwise all in scientific notation."""
    arr = np.asarray(values, dtype=object)
    fractions = [to_fraction(v) for v in arr.reshape(-1)]
    nonzero = [abs(f) for f in fractions if f]
    out = np.empty(arr.shape, dtype=object)
    fixed = all(FIXED_FROM <= a < FIXED_BELOW_SIGNIFICANT for a in nonzero)
    if fixed:
        smallest = _exponent(min(nonzero)) if nonzero else 0
        digits = max(0, significant - 1 - smallest)
        texts = [shown(f, digits) for f in fractions]
    else:
        texts = [_scientific(f, significant - 1) if f else "0" for f in fractions]
    out.reshape(-1)[:] = texts
    return out


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
    return np.asarray(
        np.vectorize(float, otypes=[float])(np.asarray(values, dtype=object)), dtype=float
    )


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


def scaled_shown(text: str, power: int) -> str:
    """A shown value times 10**power, shown to the unit its last digit then has (0.00012
    × 10³ is 0.12; 0.50 × 10² is 50). Raises ValueError when that unit would be above 1
    (0.5 × 10² would claim a precision of ±0.5 it does not have)."""
    value, half = parse_shown(text)
    value, half = value * 10**power, half * 10**power
    decimals = 0
    while Fraction(1, 2 * 10**decimals) > half:
        decimals += 1
    if Fraction(1, 2 * 10**decimals) != half:
        raise ValueError(f"{text!r} × 10^{power} has no last digit of its own")
    units = abs(value) * 10**decimals  # a whole number: the shown value had no more digits
    digits = str(units.numerator // units.denominator).rjust(decimals + 1, "0")
    whole, frac = digits[: len(digits) - decimals], digits[len(digits) - decimals :]
    return ("-" if value < 0 else "") + whole + ("." + frac if decimals else "")

"""The key's printed numbers as the printed-steps oracle reads them: a decimal string
("-1.96", or 2.69×10⁴³ for a number too large for fixed notation) as an exact Fraction with
the decimals it was printed with, a printed scalar or list of rows as an object array, and
numbers written back for messages (half-up, exact where they end). StepProblem is what
any part of the oracle raises for a step it cannot work out."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

# with either decimal mark ("-1.96", or "-1,96" from a sheet with decimal: ",")
NUMBER = re.compile(r"-?\d+(?:[.,](\d+))?")
# a number too large for fixed notation, as the key prints it: 2.69×10⁴³
SCIENTIFIC = re.compile(r"(-?\d+(?:[.,](\d+))?)×10([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


class StepProblem(Exception):
    """A step that cannot be worked out: an unknown op, a malformed tree, a log of 0."""


def half_up(x: Fraction, digits: int) -> Fraction:
    """x to ``digits`` decimals, ties away from zero."""
    scaled = abs(x) * 10**digits
    q = int((2 * scaled + 1) // 2)
    return Fraction(q if x >= 0 else -q, 10**digits)


def fixed_text(x: Fraction, digits: int) -> str:
    """x half-up with exactly ``digits`` decimals, in integers (any size)."""
    scaled = half_up(x, digits) * 10**digits
    text = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    sign = "-" if scaled < 0 else ""
    return sign + (f"{text[:-digits]}.{text[-digits:]}" if digits else text)


def plain_text(x) -> str:
    """A number for a message: exact when it ends within 10 decimals, else 10 significant."""
    if isinstance(x, float):
        return repr(x) if not math.isfinite(x) else f"{x:.10g}"
    x = Fraction(x)
    for places in range(11):
        if (x * 10**places).denominator == 1:
            return fixed_text(x, places)
    return f"{float(x):.10g}…"


def parse_number(text) -> tuple[Fraction, int]:
    """A printed number and how many decimals it was printed with (for 2.69×10⁴³: the
    decimals of the place its last digit stands for, here −41)."""
    sci = SCIENTIFIC.fullmatch(text) if isinstance(text, str) else None
    if sci:
        exponent = int(sci.group(3).translate(SUPERSCRIPT))
        mantissa = Fraction(sci.group(1).replace(",", "."))
        return mantissa * Fraction(10) ** exponent, len(sci.group(2) or "") - exponent
    if not isinstance(text, str) or not NUMBER.fullmatch(text):
        raise StepProblem(f'{text!r} is not a printed number (expected e.g. "-1.96")')
    decimals = NUMBER.fullmatch(text).group(1)
    return Fraction(text.replace(",", ".")), len(decimals or "")


def printed_array(value, number) -> np.ndarray:
    """A printed scalar or 2-D list as an object array (0-d or 2-D), each entry number(text);
    an image or a batch (maps nested deeper) keeps its dimensions."""
    if isinstance(value, str):
        return scalar(number(value))
    if isinstance(value, list) and value and all(_nested_maps(m) for m in value):
        parts = [printed_array(m, number) for m in value]
        if len({p.shape for p in parts}) != 1:
            raise StepProblem(f"{short(value)}: maps of different shapes")
        return stacked_arrays(parts)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(row, list) and row for row in value)
    ):
        raise StepProblem(f"{short(value)} is neither a printed number nor a list of rows")
    if len({len(row) for row in value}) != 1:
        raise StepProblem(f"{short(value)}: rows of different lengths")
    out = np.empty((len(value), len(value[0])), dtype=object)
    for i, row in enumerate(value):
        for j, text in enumerate(row):
            out[i, j] = number(text)
    return out


def stacked_arrays(parts: list[np.ndarray]) -> np.ndarray:
    """Object arrays of one shape as one array, one more dimension in front (maps as an
    image, images as a batch); object arrays stay object arrays (np.stack would not
    keep Intervals whole)."""
    out = np.empty((len(parts), *parts[0].shape), dtype=object)
    for i, p in enumerate(parts):
        out[i] = p
    return out


def _nested_maps(m) -> bool:
    """A map (a list of rows) or deeper: a list whose first item is a list of lists."""
    return (
        isinstance(m, list)
        and bool(m)
        and isinstance(m[0], list)
        and bool(m[0])
        and isinstance(m[0][0], list | str)
    )


def scalar(x) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = x
    return out


def as_array(x) -> np.ndarray:
    """NumPy hands back a bare object for 0-d results; keep everything an array."""
    return x if isinstance(x, np.ndarray) else scalar(x)


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def shape_text(a: np.ndarray) -> str:
    return "a scalar" if a.ndim == 0 else "×".join(map(str, a.shape))

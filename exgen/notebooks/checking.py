"""The checks a student's notebook runs. This module is copied verbatim into each
student's ``utils.py`` (so it imports nothing of exgen); exgen computes the expected
digests with the same functions, so the two cannot drift apart.

A value is compared entry by entry, rounded half-up at the key's digits and hashed with
a salt of the student's own, so the expected numbers are not in plain sight. Floating
point can put a value computed a different way on the other side of a rounding
boundary: an entry also passes when the value nudged by a hair either way rounds right.
"""

import hashlib
from fractions import Fraction

import numpy as np

EXPECTED: dict = {}  # name -> {"digits", "shape", "salt", "digests"}, filled in utils.py


def rounded(x, digits: int) -> str:
    """``x`` rounded half-up (ties away from zero) to ``digits`` decimals, exactly."""
    q = Fraction(x) * 10**digits
    whole = int(abs(q) + Fraction(1, 2))
    if whole == 0:
        return "0." + "0" * digits if digits else "0"
    text = str(whole).rjust(digits + 1, "0")
    body = text[:-digits] + "." + text[-digits:] if digits else text
    return ("-" if q < 0 else "") + body


def digest(salt: str, name: str, index: int, text: str) -> str:
    return hashlib.sha256(f"{salt}|{name}|{index}|{text}".encode()).hexdigest()[:16]


def nudged(x: float, digits: int) -> set:
    """What ``x`` rounds to, and what it rounds to nudged by a hair either way."""
    hair = max(10.0 ** -(digits + 3), abs(x) * 1e-12)
    return {rounded(v, digits) for v in (x - hair, x, x + hair)}


def _as_array(value):
    if hasattr(value, "detach"):  # a PyTorch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _where(index: int, shape: tuple) -> str:
    if not shape:
        return ""
    at = np.unravel_index(index, shape)
    return " at [" + ", ".join(str(int(i)) for i in at) + "]"


def check(name: str, value, table: dict | None = None) -> None:
    """Raise AssertionError unless ``value`` is this student's ``name``, entry by entry
    (``value`` may be a function of no arguments, called here)."""
    spec = (EXPECTED if table is None else table)[name]
    if callable(value):  # your functions, run here: what they raise is part of the answer
        try:
            value = value()
        except Exception as exc:
            raise AssertionError(f"{name}: your code raised {type(exc).__name__}: {exc}") from None
        if value is None:
            raise AssertionError(f"{name}: your function returned None: write it first")
    if value is None:
        raise AssertionError(f"{name} is not computed yet: replace None with your result")
    try:
        got = _as_array(value)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{name} should be an array of numbers, not {type(value).__name__}"
        ) from None
    shape = tuple(spec["shape"])
    if np.squeeze(got).shape != np.squeeze(np.zeros(shape)).shape:
        raise AssertionError(
            f"{name} has shape {got.shape}; expected {shape}"
            + (" (transposed?)" if got.shape == shape[::-1] else "")
        )
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} has entries that are not finite numbers (nan or inf)")
    flat = got.reshape(-1)
    digits, salt = spec["digits"], spec["salt"]
    wrong = [
        i
        for i, x in enumerate(flat)
        if spec["digests"][i] not in {digest(salt, name, i, t) for t in nudged(float(x), digits)}
    ]
    if wrong:
        first = wrong[0]
        raise AssertionError(
            f"{name}: {len(wrong)} of {flat.size} entries are not right, the first"
            f"{_where(first, shape)} (you have {flat[first]:.{digits}f}; "
            f"compared at {digits} decimals)"
        )
    print(f"✓ {name} is right ({flat.size} {'entry' if flat.size == 1 else 'entries'})")


def check_close(name: str, value, reference, tolerance: float = 1e-4) -> None:
    """Raise AssertionError unless ``value`` agrees with ``reference`` to a relative
    error below ``tolerance`` (|a − b| / (|a| + |b|), entry by entry)."""
    if value is None:
        raise AssertionError(f"{name} is not computed yet: replace None with your result")
    if reference is None:
        raise AssertionError(f"{name}: the gradient to compare with is not computed yet")
    a, b = _as_array(value), _as_array(reference)
    if a.shape != b.shape:
        raise AssertionError(f"{name} has shape {a.shape}; expected {b.shape}")
    scale = np.abs(a) + np.abs(b)
    error = np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1), 0.0)
    worst = float(error.max()) if error.size else 0.0
    if not worst < tolerance:
        raise AssertionError(
            f"{name}: relative error {worst:.1e} is above {tolerance:.0e}: "
            "the two gradients disagree"
        )
    print(f"✓ {name} agrees (largest relative error below {tolerance:.0e})")


def expected_entry(name: str, salt: str, digits: int, value) -> dict:
    """What ``check`` needs to recognise ``value`` (exact or float) as ``name``."""
    arr = np.asarray(value, dtype=object)
    flat = arr.reshape(-1)
    return {
        "digits": digits,
        "shape": list(arr.shape),
        "salt": salt,
        "digests": [digest(salt, name, i, rounded(x, digits)) for i, x in enumerate(flat)],
    }

"""How the reports say things: each verdict's words (one table, keyed by the verdict
names of model.py), a collected number's column typeset as the quantity it is, points
and shares as people read them."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

from exgen.grading.model import VERDICTS, Verdict


@dataclass(frozen=True)
class Wording:
    label: str  # the badge beside an answer, the legend of the summary's bars
    short: str  # the summary's column heading
    sentence: str  # what the verdict means, for the key under the feedback
    earns: bool  # counts as a success in the class summary (the step was done right)
    colour: str  # badge and bar; dark enough for white text (WCAG AA)


VERDICT_WORDS: dict[Verdict, Wording] = {
    "right": Wording("right", "right", "Right: it matches the key.", True, "#1d6b35"),
    "carried": Wording(
        "right with your own earlier values (error carried forward)",
        "carried forward",
        "Right with your own earlier values (error carried forward): wrong against the key, "
        "but exactly what your own earlier answers lead to.",
        True,
        "#22608a",
    ),
    "close": Wording(
        "off by one in the last digit",
        "last digit",
        "Off by one in the last digit: a rounding slip.",
        False,
        "#8a5a00",
    ),
    "wrong": Wording(
        "wrong",
        "wrong",
        "Wrong: it matches neither the key nor your own earlier values.",
        False,
        "#b00020",
    ),
    "missing": Wording(
        "not answered", "not answered", "Not answered: the cell was empty.", False, "#666666"
    ),
    "trivial": Wording(
        "consistent only with values that make the rest trivial",
        "trivial upstream",
        "Consistent only with earlier values that make the rest trivial (all zeros, a dead "
        "layer, gradients that vanish): no carried credit.",
        False,
        "#6b3fa0",
    ),
}
assert tuple(VERDICT_WORDS) == VERDICTS, "every verdict has its words, in the model's order"

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_GREEK = {"lambda": "λ", "kappa": "κ", "sigma": "σ", "mu": "μ", "gamma": "γ", "beta": "β"}
_DERIVATIVE = re.compile(r"\bd([A-Za-z]\w*)/d([A-Za-z]\w*)")


def quantity(column: str, exercise: str) -> str:
    """A column of answers.csv as the quantity it names: "net dL/dW1[1,2]" of exercise
    "net" reads ∂L/∂W₁[1,2], "opt W1[1] new" reads W₁[1] new, "h H lambda2" reads H λ₂."""
    text = column.removeprefix(f"{exercise} ") if column.startswith(f"{exercise} ") else column
    text = _DERIVATIVE.sub(r"∂\1/∂\2", text)
    text = re.sub(r"\b(" + "|".join(_GREEK) + r")(?=\d|\b)", lambda m: _GREEK[m[1]], text)
    text = re.sub(r"(?<![\w\[,])([A-Za-zλκσμγβ]+)(\d+)(?=\b|\[|$)", _subscripted, text)
    return text


def _subscripted(match: re.Match) -> str:
    return match[1] + match[2].translate(_SUBSCRIPT)


@functools.lru_cache(maxsize=4096)  # a class's pages repeat a handful of values
def points(value: Fraction) -> str:
    """Points as a grader writes them: 2, 0.5, 0.33, 2.63 for 2.625 (two decimals at
    most, halves rounded up)."""
    if value.denominator == 1:
        return str(value.numerator)
    hundredths = (abs(value) * 100 + Fraction(1, 2)).__floor__()  # half up, exactly
    text = f"{hundredths // 100}.{hundredths % 100:02d}".rstrip("0").rstrip(".")
    return ("−" if value < 0 else "") + text


def percent(part: int, whole: int) -> str:
    """A share in whole percent: 3 of 4 reads "75 %" (with a no-break space)."""
    if whole == 0:
        raise ValueError("a share of nothing")
    return f"{round(Fraction(100 * part, whole))}\u00a0%"

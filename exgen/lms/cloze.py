"""Moodle's cloze (multianswer) syntax for numbers: writing one NUMERICAL sub-question per
answer slot, and reading the syntax back the way Moodle's importer does.

The reader mirrors ``qtype_multianswer_extract_question`` and its regexes (ANSWER_REGEX,
ANSWER_ALTERNATIVE_REGEX, NUMERICAL_ALTERNATIVE_REGEX, NUMBER_REGEX) in Moodle's
question/type/multianswer/questiontype.php, so that what exgen writes is checked by the
grammar Moodle applies, not by exgen's own idea of it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from exgen.lms.questions import Slot

# questiontype.php's regexes, as Python. PCRE's (?<!\\|&|&amp;) has alternatives of
# different lengths, which Python's lookbehind refuses: three lookbehinds say the same.
_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
_NUMERICAL = re.compile(f"^({NUMBER})(:{NUMBER})?$", re.S)
_TYPES = (
    "(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
    "(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|"
    "(MULTICHOICE_S|MCS)|(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|"
    "(MULTIRESPONSE|MR)|(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)"
)
ANSWER_START = re.compile(r"\{([0-9]*):(" + _TYPES + "):")
_ANSWER_RE = re.compile(ANSWER_START.pattern + f"({_ALTERNATIVE}(~{_ALTERNATIVE})*)\\}}", re.S)
_ALTERNATIVE_RE = re.compile(f"~?{_ALTERNATIVE}", re.S)
# Group numbers, as questiontype.php names them.
_NORM, _TYPE_NUMERICAL, _ALTERNATIVES = 1, 3, 16
_ALT_FRACTION, _ALT_PERCENT, _ALT_ANSWER, _ALT_FEEDBACK = 1, 2, 3, 5
_CORRECT, _MARGIN = 1, 6
# Where Moodle's renderer puts each sub-question back: {#1}, {#2}, ...
PLACEHOLDER = re.compile(r"\{#([0-9]+)\}")

DIGITS = 12  # significant digits of a number that is not a finite decimal


def number(x: Fraction) -> str:
    """``x`` as Moodle reads a number: '.' decimal mark, no exponent, no grouping; exact
    when ``x`` is a finite decimal, else rounded to DIGITS significant digits."""
    d = _exact(x)
    if d is None:
        d = Context(prec=DIGITS, rounding=ROUND_HALF_EVEN).divide(
            Decimal(x.numerator), Decimal(x.denominator)
        )
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _exact(x: Fraction) -> Decimal | None:
    den, twos, fives = x.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return None
    places = max(twos, fives)
    return Decimal(x.numerator * 10**places // x.denominator).scaleb(-places)


def weights(slots: tuple[Slot, ...] | list[Slot]) -> list[int]:
    """Each slot's points share as the integer weight cloze takes: the smallest whole
    numbers in the shares' proportions (13 equal shares of 6 points weigh 1 each). Moodle's
    mark of the question is their sum; the quiz sets what it is worth."""
    scale = math.lcm(*(s.points.denominator for s in slots)) if slots else 1
    whole = [int(s.points * scale) for s in slots]
    common = math.gcd(*whole) if whole else 1
    return [w // common for w in whole] if common else whole


def numerical(slot: Slot, weight: int) -> str:
    """One slot as {W:NUMERICAL:=centre:tolerance~%P%centre:tolerance}: the interval the
    policy calls right, then the close one (partial credit P %) where the policy has one.
    Moodle tries the answers in order, so the right one must come first; it reads the
    tolerance as 'nominal' (qtype_numerical_answer::get_tolerance_interval), a closed
    interval widened by a float epsilon, so answers on its ends count as right."""
    out = f"{{{weight}:NUMERICAL:={_interval(*slot.right)}"
    if slot.close is not None:
        lo, hi, credit = slot.close
        out += f"~%{number(credit * 100)}%{_interval(lo, hi)}"
    return out + "}"


def _interval(lo: Fraction, hi: Fraction) -> str:
    return f"{number((lo + hi) / 2)}:{number((hi - lo) / 2)}"


def escape_text(text: str) -> str:
    """The question's own text with nothing Moodle would take for a sub-question: a space
    after '{' where '{n:TYPE:' or '{#n}' begins (TeX ignores it; Moodle's regexes then do
    not match)."""
    text = ANSWER_START.sub(lambda m: "{ " + m[0][1:], text)
    return PLACEHOLDER.sub(lambda m: "{ " + m[0][1:], text)


@dataclass(frozen=True)
class Alternative:
    fraction: Fraction  # the credit, 1 for '='
    answer: str  # as written
    feedback: str
    centre: Fraction | None  # NUMERICAL: the answer and its tolerance, when they parse
    tolerance: Fraction | None

    @property
    def interval(self) -> tuple[Fraction, Fraction] | None:
        if self.centre is None or self.tolerance is None:
            return None
        return self.centre - self.tolerance, self.centre + self.tolerance


@dataclass(frozen=True)
class SubQuestion:
    source: str  # the whole {…} as written
    weight: str  # the norm, '1' when left out (Moodle's defaultmark)
    qtype: str  # numerical, or the type keyword written
    alternatives: tuple[Alternative, ...]


def extract(text: str) -> tuple[list[SubQuestion], str]:
    """The sub-questions of a cloze question text and the text with {#k} in their place,
    as ``qtype_multianswer_extract_question`` finds them: the first match of ANSWER_REGEX
    each time, its alternatives one by one with '~?'+ANSWER_ALTERNATIVE_REGEX."""
    found: list[SubQuestion] = []
    while (m := _ANSWER_RE.search(text)) is not None:
        is_numerical = bool(m[_TYPE_NUMERICAL])
        alternatives = []
        remaining = m[_ALTERNATIVES]
        while (alt := _ALTERNATIVE_RE.search(remaining)) is not None:
            if alt[_ALT_FRACTION] == "=":
                fraction = Fraction(1)
            elif alt[_ALT_PERCENT]:
                fraction = Fraction(alt[_ALT_PERCENT].replace(",", ".")) / 100
            else:
                fraction = Fraction(0)
            answer = alt[_ALT_ANSWER]
            centre = tolerance = None
            num = _NUMERICAL.match(answer) if is_numerical else None
            if num is not None:
                centre = parse_number(num[_CORRECT])
                tolerance = parse_number(num[_MARGIN]) if num[_MARGIN] else Fraction(0)
            feedback = (alt[_ALT_FEEDBACK] or "").replace("\\}", "}").replace("\\#", "#")
            alternatives.append(Alternative(fraction, answer, feedback, centre, tolerance))
            remaining = remaining.split(alt[0], 1)[1]
        qtype = "numerical" if is_numerical else m[2]
        found.append(SubQuestion(m[0], m[_NORM] or "1", qtype, tuple(alternatives)))
        text = text.replace(m[0], f"{{#{len(found)}}}", 1)
    return found, text


def parse_number(text: str) -> Fraction:
    """A number NUMBER_REGEX accepts, exactly (',' read as '.', as Moodle's numerical
    answers are, whatever the locale)."""
    return Fraction(text.replace(",", "."))

"""The grading policy: tolerances, last-digit credit, the exercise's keys over the sheet's."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from exgen.define.schema import GradingSpec
from exgen.grading.policy import judge, policy_of, rounded_to, significant

DEFAULT = policy_of(GradingSpec(), None)


@pytest.mark.parametrize(
    ("given", "shown", "verdict"),
    [
        ("0.5", "0.50", "right"),
        ("0.504", "0.50", "right"),  # rounds half-up to the shown value
        ("0.4951", "0.50", "right"),
        ("0.505", "0.50", None),  # just outside: rounds to 0.51
        ("0.4949", "0.50", None),
        ("-0.504", "-0.50", "right"),
        ("-0.505", "-0.50", None),  # ties away from zero: -0.51
        ("0.51", "0.50", None),  # no last-digit credit by default
        ("1.23", "1.23×10¹⁵", None),
    ],
)
def test_default_is_rounding_to_the_shown_value(given, shown, verdict):
    assert judge(F(given), shown, DEFAULT) == verdict


def test_tolerances():
    digits = policy_of(GradingSpec(digits=1), None)
    assert judge(F("0.54"), "0.50", digits) == "right"
    assert judge(F("0.55"), "0.50", digits) is None
    absolute = policy_of(GradingSpec(absolute=0.01), None)
    assert judge(F("0.51"), "0.50", absolute) == "right"
    assert judge(F("0.5101"), "0.50", absolute) is None
    relative = policy_of(GradingSpec(relative=0.1), None)
    assert judge(F("2.2"), "2.00", relative) == "right"
    assert judge(F("2.2001"), "2.00", relative) is None
    figures = policy_of(GradingSpec(figures=2), None)
    assert judge(F("1234"), "1230.00", figures) == "right"
    assert judge(F("1250"), "1230.00", figures) is None


def test_last_digit_credit():
    policy = policy_of(GradingSpec(last_digit=0.5), None)
    assert policy.last_digit == F(1, 2)
    assert judge(F("0.51"), "0.50", policy) == "close"
    assert judge(F("0.494"), "0.50", policy) == "close"  # rounds to 0.49
    assert judge(F("0.52"), "0.50", policy) is None


def test_the_exercise_overrides_the_sheet_key_by_key():
    sheet = GradingSpec(absolute=0.1, last_digit=0.5, ecf=False)
    own = policy_of(sheet, GradingSpec(figures=3))
    assert (own.tolerance, own.amount, own.last_digit, own.ecf) == ("figures", 3, F(1, 2), False)
    assert policy_of(sheet, GradingSpec(ecf=True)).tolerance == "absolute"
    assert policy_of(sheet, GradingSpec(ecf=True)).amount == F(1, 10)  # 0.1 as written


def test_one_tolerance_only():
    with pytest.raises(ValueError, match="give one tolerance, not digits and absolute"):
        GradingSpec(digits=2, absolute=0.1)


def test_rounding_helpers_are_exact():
    assert rounded_to(F("0.125"), F(1, 100)) == F("0.13")
    assert rounded_to(F("-0.125"), F(1, 100)) == F("-0.13")
    assert significant(F("0.012345"), 3) == F("0.0123")
    assert significant(F("-98765"), 2) == F("-99000")

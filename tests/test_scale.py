"""`scale:` — students give a tiny number × 10^k (so that a platform keeping few decimals
can hold it): the definition's checks, the scaled columns and values, the sentence on the
sheet and the key, and grading (right, and carried credit in the engine's own units)."""

from __future__ import annotations

import csv
import json
from fractions import Fraction as F

import pytest
from cli_run import invoke

from exgen.engine.rounding import scaled_shown

SHEET = """\
title: Scaled
rounding: {digits: 6}
variants:
  seed: scaled
  draw:
    q1.w: {grid: [0.01, 0.05, 0.01]}
exercises:
  - id: q1
    title: Tiny gradients
    prompt: A network with small weights.
    network:
      equations:
        - y = w * x
        - L = 0.5 * (y - t)**2
      loss: L
      params: [w]
    values: {x: 0.01, w: 0.03, t: 0.02}
    collect: [y, L, grads]
    scale: {grad.w: 3, L: 4}
    ask: [forward, backward]
"""


@pytest.mark.parametrize(
    ("text", "power", "expected"),
    [
        ("0.00012", 3, "0.12"),
        ("0.50", 2, "50"),
        ("-0.0034", 2, "-0.34"),
        ("1.23", 1, "12.3"),
        ("0.000050", 4, "0.50"),
        ("0.00", 2, "0"),
        ("-0.001", 3, "-1"),
    ],
)
def test_a_shown_value_scaled_keeps_its_last_digit(text, power, expected):
    assert scaled_shown(text, power) == expected


def test_a_scale_past_the_last_digit_is_refused():
    with pytest.raises(ValueError, match=r"'0.5' × 10\^2 has no last digit of its own"):
        scaled_shown("0.5", 2)


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        (
            "{grad.w: 7}",
            "exercises[0].scale.grad.w: × 10^7 of a value shown to 6 decimals would claim "
            "digits it does not have (expected at most 6)",
        ),
        (
            "{grad.x: 3}",
            "exercises[0].scale.grad.x: 'grad.x' is not collected (expected one of: y, L, "
            "grads, or grad.NAME of a parameter when grads is)",
        ),
        (
            "{grad.q: 3}",
            "exercises[0].scale.grad.q: 'q' is not a node of the network (expected one of: "
            "L, y, grads or grad.NAME)",
        ),
    ],
)
def test_a_scale_that_cannot_be_is_refused_where_it_is_written(tmp_path, scale, message):
    (tmp_path / "s.yaml").write_text(SHEET.replace("{grad.w: 3, L: 4}", scale))
    result = invoke(tmp_path, "build", "s.yaml", "--no-pdf")
    assert result.exit_code == 2
    assert result.output == f"error: s.yaml:19: {message}\n"
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("scaled")
    (work / "s.yaml").write_text(SHEET)
    result = invoke(work, "build", "s.yaml", "--no-pdf", "--variants", "3")
    assert result.exit_code == 0, result.output
    return work


def test_the_form_names_the_scale_and_the_key_keeps_the_engine_units(built):
    header = next(csv.reader((built / "out/s/answer-form.csv").open()))
    assert header == ["id", "name", "q1 y", "q1 L ×10^4", "q1 dL/dw ×10^3"]
    key = json.loads((built / "out/s/variants/001/key.json").read_text())["exercises"]["q1"]
    answers = next(csv.DictReader((built / "out/s/answers.csv").open()))
    # answers.csv is the key's: unscaled
    assert answers["q1 dL/dw"] == key["grads"]["w"]["shown"]


def test_the_sheet_and_the_key_ask_for_the_scaled_numbers(built):
    for name in ("sheet.html", "key.html"):
        page = (built / f"out/s/variants/001/{name}").read_text()
        assert "each value multiplied by the power of ten shown." in page
        assert page.count("<p>Hand in ") == 1


def test_scaled_answers_are_graded_in_the_scale_with_carried_credit(built):
    key = json.loads((built / "out/s/variants/001/key.json").read_text())["exercises"]["q1"]
    x, t = F(1, 100), F(2, 100)
    wrong_y = F(key["values"]["y"]["shown"]) + F(1, 1000)  # a slip in y
    carried_grad = (wrong_y - t) * x  # what their y leads to: dL/dw = (y − t)·x
    rows = [
        ["id", "name", "q1 y", "q1 L ×10^4", "q1 dL/dw ×10^3"],
        ["001", "", f"{float(wrong_y):.6f}", "", f"{float(carried_grad * 1000):.3f}"],
        ["002", "", "", "", ""],
        ["003", "", "", "", ""],
    ]
    three = json.loads((built / "out/s/variants/003/key.json").read_text())["exercises"]["q1"]
    rows[3][4] = scaled_shown(three["grads"]["w"]["shown"], 3).replace(".", ",")
    with (built / "in.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    result = invoke(built, "grade", "s.yaml", "--answers", "in.csv", "--no-pdf")
    assert result.exit_code == 0, result.output
    grades = json.loads((built / "out/s/grades/grades.json").read_text())["students"]
    verdicts = {
        s["id"]: {a["column"]: a["verdict"] for a in s["exercises"][0]["answers"]} for s in grades
    }
    assert verdicts["001"]["q1 dL/dw ×10^3"] == "carried"
    assert verdicts["003"]["q1 dL/dw ×10^3"] == "right"
    carried = next(
        a for a in grades[0]["exercises"][0]["answers"] if a["column"] == "q1 dL/dw ×10^3"
    )
    assert carried["carried_expected"] == scaled_shown(f"{float(carried_grad):.6f}", 3)

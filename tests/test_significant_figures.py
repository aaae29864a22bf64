"""rounding: {figures: 3}: half-up to significant figures, by hand; a sheet so rounded
worked by hand, checked by `exgen check`, and graded."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction as F
from pathlib import Path

import pytest
from cli_run import invoke

from exgen.asks.collect import collected
from exgen.build.variants import Student, make_variant
from exgen.define.load import load_sheet
from exgen.engine.rounding import Figures, Rounding, parse_shown, round_half_up, shown
from exgen.render.documents import rounding_hint, rounding_text, tie_example
from exgen.render.keyjson import key_document

FIXTURE = Path(__file__).parent / "fixtures" / "q3.yaml"

# value, rounded by hand to 3 significant figures, as the key shows it
BY_HAND = [  # value, by hand to 3 figures, as the key prints it, unit of its last figure
    ("0.0123456", "0.0123", "0.0123", "0.0001"),
    ("123.456", "123", "123", "1"),
    ("1234.5", "1230", "1.23×10³", "10"),
    ("0.1235", "0.124", "0.124", "0.001"),  # a tie: away from zero
    ("-0.1235", "-0.124", "-0.124", "0.001"),
    ("8.825", "8.83", "8.83", "0.01"),
    ("-2.5", "-2.5", "-2.50", "0.01"),
    ("999.6", "1000", "1.00×10³", "10"),
    ("9.995", "10", "10.0", "0.1"),
    ("0.9995", "1", "1.00", "0.01"),
    ("12345", "12300", "1.23×10⁴", "100"),
    ("-98765.4", "-98800", "-9.88×10⁴", "100"),
    ("0.0001234", "0.000123", "0.000123", "0.000001"),
    ("0.00001235", "0.0000124", "1.24×10⁻⁵", "0.0000001"),
    ("1", "1", "1.00", "0.01"),
    ("0", "0", "0.00", "0.01"),
]


@pytest.mark.parametrize("value, rounded, printed, unit", BY_HAND)
def test_rounding_to_significant_figures_by_hand(value, rounded, printed, unit):
    three = Figures(3)
    assert round_half_up(F(value), three) == F(rounded)
    assert round_half_up(float(value), three) == float(rounded)
    assert shown(F(value), three) == printed
    assert shown(float(value), three) == printed
    # the printed form carries its precision: half a unit of the third figure
    assert parse_shown(printed) == (F(rounded), F(unit) / 2)


def test_figures_are_not_decimals():
    assert Figures(3) != 3 and 3 != Figures(3)  # noqa: SIM300 (either way round)
    assert shown(F("1.23456"), 3) == "1.235" and shown(F("1.23456"), Figures(3)) == "1.23"
    assert Rounding(Figures(3)) != Rounding(3)
    assert Rounding(Figures(3), True).as_json() == {"figures": 3, "carry": True, "mode": "half-up"}


def test_banner_and_hint_say_significant_figures():
    rounding = Rounding(Figures(3), carry=False)
    assert tie_example(Figures(3)) == "8.825 → 8.83"
    assert "rounded to 3 significant figures (half-up, ties away from zero: 8.825 → 8.83)" in (
        rounding_text(rounding, exact=True)
    )
    assert rounding_hint(rounding) == "Give results to 3 significant figures."
    carried = Rounding(Figures(1), carry=True)
    assert "rounded to 1 significant figure (half-up" in rounding_text(carried, exact=True)
    assert "8.5 → 9" in rounding_text(carried, exact=True)
    assert "to 1 significant figure (half-up)" in rounding_hint(carried)


def test_digits_and_figures_together_is_a_located_error(tmp_path):
    text = FIXTURE.read_text().replace("{digits: 2, carry: true}", "{digits: 2, figures: 3}")
    (tmp_path / "s.yaml").write_text(text)
    result = invoke(tmp_path, "build", "s.yaml", "--no-pdf")
    assert result.exit_code != 0
    assert "give digits or figures, not both" in result.output
    assert "s.yaml:5" in result.output and "rounding" in result.output


def build(work: Path, carry: bool) -> dict:
    rule = f"{{figures: 3, carry: {'true' if carry else 'false'}}}"
    text = FIXTURE.read_text().replace("{digits: 2, carry: true}", rule)
    (work / "s.yaml").write_text(text)
    result = invoke(work, "build", "s.yaml", "--no-pdf")
    assert result.exit_code == 0, result.output
    return json.loads((work / "out" / "s" / "key.json").read_text())


# By hand (see tests/test_sheet9.py for the exact values): y = [8.825, 5.93],
# L = 0.5 (7.825² + 5.93²) = 48.1977625, dW3 = 7.825 · [2.55, 3.9, 2.5] = [19.95375, 30.5175,
# 19.5625], 5.93 · z1 = [15.1215, 23.127, 14.825]; dW2[0] = 7.825 · [1, 2, 3, 4].
FULL = {
    "y": ["8.83", "5.93"],
    "L": "48.2",
    "grad y": ["7.83", "5.93"],
    "grad z1": ["9.01", "5.69", "4.33"],
    "grad W3": [["20.0", "30.5", "19.6"], ["15.1", "23.1", "14.8"]],
    "grad W2": [["7.83", "15.7", "23.5", "31.3"], ["5.93", "11.9", "17.8", "23.7"]],
    "grad W1": [
        ["9.01", "18.0", "27.0", "36.0"],
        ["5.69", "11.4", "17.1", "22.8"],
        ["4.33", "8.66", "13.0", "17.3"],
    ],
}
# Carried, each intermediate to 3 figures: u3 = 5.125 → 5.13, y = [8.83, 5.93],
# (y − ŷ)² = [61.3089, 35.1649] → [61.3, 35.2], L = 0.5 · 96.5 = 48.25 → 48.3; backward the
# local derivative 2 (y − ŷ) = 15.66 → 15.7, so dy = 0.500 · 15.7 = 7.85, 0.500 · 11.9 = 5.95;
# dz1 = W3ᵀ dy = [7.85 + 1.19, 3.925 + 1.785, 1.9625 + 2.38] = [9.04, 5.71, 4.3425 → 4.34].
CARRIED = {
    "(y - yhat) ** 2": ["61.3", "35.2"],
    "L": "48.3",
    "grad y": ["7.85", "5.95"],
    "grad z1": ["9.04", "5.71", "4.34"],
    "grad W3": [["20.0", "30.6", "19.6"], ["15.2", "23.2", "14.9"]],
}


@pytest.mark.parametrize("carry, expected", [(False, FULL), (True, CARRIED)])
def test_a_sheet_to_three_figures_worked_by_hand_and_checked(tmp_path, carry, expected):
    key = build(tmp_path, carry)
    assert key["rounding"] == {"figures": 3, "carry": carry, "mode": "half-up"}
    q3 = key["exercises"]["q3"]
    for name, want in expected.items():
        entry = q3["grads"][name[5:]] if name.startswith("grad ") else q3["values"][name]
        assert entry["shown"] == want, name
    html = (tmp_path / "out" / "s" / "key.html").read_text()
    assert "3 significant figures" in html
    checked = invoke(tmp_path, "check", "s.yaml")
    assert checked.exit_code == 0, checked.output
    assert "printed steps ok" in checked.output and "3 significant figures" in checked.output


SHEET = """\
title: Figures drill
rounding: {figures: 3}
variants:
  seed: figures
  draw:
    x: {integers: [1, 3]}
    W1: {grid: [-1, 1, 0.25]}
  require: [no_relu_at_zero, no_dead_layer]
exercises:
  - id: q1
    title: Forward and backward
    points: 10
    network:
      equations:
        - u = W1 @ x
        - z = relu(u)
        - y = W2 @ z
        - L = 0.5 * sum((y - t)**2) * 1000
      loss: L
      params: [W1, W2]
    values:
      x: [1, 2]
      t: [1]
      W1: [[0.5, -0.5], [0.25, 0.5]]
      W2: [[1.5, -1]]
    ask: [forward, backward]
    collect: [z, y, L, grads]
"""


def plain(x: F) -> str:
    """An exact decimal as a student writes it, without ×10ⁿ."""
    text = f"{float(x):.12f}".rstrip("0").rstrip(".")
    assert F(text) == x
    return text


def test_a_class_to_three_figures_graded(tmp_path):
    (tmp_path / "drill.yaml").write_text(SHEET)
    built = invoke(tmp_path, "build", "drill.yaml", "--variants", "3", "--no-pdf")
    assert built.exit_code == 0, built.output
    form = (tmp_path / "out/drill/answer-form.csv").read_text()
    header, *students = list(csv.reader(io.StringIO(form)))
    columns, sheet = header[2:], load_sheet(str(tmp_path / "drill.yaml"))
    key_rows = []
    for student in students:
        variant = make_variant(sheet, Student(student[0]))
        key = key_document(variant.sheet, variant.traces, steps=False)["exercises"]["q1"]
        shown = {c.column: c.shown for c in collected("q1", key, sheet.exercises[0].spec)}
        key_rows.append({"id": student[0], "name": student[1], **shown})
    assert any("×10" in row[c] for row in key_rows for c in columns)  # L is in the thousands
    rows, planned = [header], {}
    for k, row in enumerate(key_rows):
        cells, verdicts = [], {}
        for c in columns:
            value, half = parse_shown(row[c])
            if k == 0:  # inside the last figure's half unit: rounds to the key's value
                cells.append(plain(value + half * F(4, 5)))
                verdicts[c] = "right"
            elif k == 1:  # as rounded by the student to 3 figures, written out in full
                cells.append(plain(value))
                verdicts[c] = "right"
            else:  # three half units off: another third figure
                cells.append(plain(value + 3 * half))
                verdicts[c] = "wrong"
        rows.append([row["id"], row["name"], *cells])
        planned[row["id"]] = verdicts
    with (tmp_path / "in.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    graded = invoke(tmp_path, "grade", "drill.yaml", "--answers", "in.csv", "--no-pdf")
    assert graded.exit_code == 0, graded.output
    document = json.loads((tmp_path / "out/drill/grades/grades.json").read_text())
    for student in document["students"]:
        answers = student["exercises"][0]["answers"]
        got = {a["column"]: a["verdict"] for a in answers}
        want = planned[student["id"]]
        if "wrong" in want.values():  # a wrong upstream value may carry into later ones
            assert all(v != "right" for v in got.values()), got
        else:
            assert got == want


def test_a_notebook_and_scale_need_digits(tmp_path):
    root = Path(__file__).parents[1] / "exercises"
    text = (root / "hw2-numpy-backprop.yaml").read_text()
    (tmp_path / "nb.yaml").write_text(text.replace("{digits: 8, carry: false}", "{figures: 4}"))
    result = invoke(tmp_path, "build", "nb.yaml", "--no-pdf")
    assert result.exit_code != 0 and "exercises[0].notebook" in result.output
    assert "not figures" in result.output
    scaled = SHEET.replace(
        "collect: [z, y, L, grads]", "collect: [z, y, L, grads]\n    scale: {L: 2}"
    )
    (tmp_path / "sc.yaml").write_text(scaled)
    result = invoke(tmp_path, "build", "sc.yaml", "--no-pdf")
    assert result.exit_code != 0 and "scale needs the key's rounding in decimals" in result.output

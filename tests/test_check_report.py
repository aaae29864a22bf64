"""`exgen check` says what it checked: each oracle as ran or skipped (and why), kinks
explained, the printed steps worked out again, and a summary that claims only what ran."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from exgen.check import printed_steps
from exgen.cli import main
from exgen.render import keyjson

SHEET = """title: t
rounding: {{digits: 2, carry: {carry}}}
exercises:
  - id: e
    title: e
    network:
      equations: ["u = w * x", "L = 0.5 * (u - t) ** 2"]
      loss: L
      params: [w]
    values: {{w: 0.5, x: 3, t: 1}}
    ask: [forward, backward]
"""
# What the key prints for SHEET: u = 0.5 · 3 = 1.50 and L = 0.5 · (1.50 − 1)² = 0.13 (0.125).
U = {
    "target": "u",
    "latex": "u = w\\,x = 0.5 \\cdot 3 = 1.50",
    "expr": {"op": "mul", "args": ["0.5", "3"]},
    "result": "1.50",
}
L = {
    "target": "L",
    "latex": "L = 0.5 \\cdot {\\left(u - t\\right)}^{2} = "
    "0.5 \\cdot {\\left(1.50 - 1\\right)}^{2} = 0.13",
    "expr": {
        "op": "mul",
        "args": ["0.5", {"op": "pow", "args": [{"op": "sub", "args": ["1.50", "1"]}, "2"]}],
    },
    "result": "0.13",
}


@pytest.fixture
def work(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    monkeypatch.chdir(tmp_path)

    def sheet(carry=True, text=SHEET):
        (tmp_path / "exercises" / "s.yaml").write_text(text.format(carry=str(carry).lower()))

    return sheet


def record_steps(monkeypatch, steps):
    """Stand in for the key writer: the key records these steps (None: no steps at all)."""
    original = keyjson.exercise_json

    def with_steps(ex, trace, sheet, results, worked=True):
        entry = dict(original(ex, trace, sheet, results, worked), steps=steps)
        return entry if steps is not None else {k: v for k, v in entry.items() if k != "steps"}

    monkeypatch.setattr(keyjson, "exercise_json", with_steps)


def check(*args):
    return CliRunner().invoke(main, ["check", "s", *args])


def test_right_steps_pass_and_the_summary_names_what_ran(work, monkeypatch):
    work()
    record_steps(monkeypatch, [U, L])
    result = check("--no-torch")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"e: ok — finite differences ok \(max\. relative error \d\.\de-1\d, max\. absolute error "
        r"\d\.\de-1\d\); exact vs float64 ok \(max\. relative gap 0\.0e\+00\); printed steps ok "
        r"\(2 steps recomputed and read back from their printed lines, carried rounding to 2 decimals\); torch autograd skipped "
        r"\(--no-torch\)\n"
        r"ran: finite differences on e; exact vs float64 on e; printed steps on e\n"
        r"not run: torch autograd on e \(--no-torch\)\n"
        r"1 exercise agrees with every oracle that ran\n",
        result.output,
    )


def test_a_wrong_step_fails_the_check(work, monkeypatch):
    work()
    record_steps(monkeypatch, [U, dict(L, result="0.12", latex=L["latex"].replace("0.13", "0.12"))])
    result = check("--no-torch")
    assert result.exit_code == 4
    assert (
        "printed steps FAILED (1 of 2 steps wrong, carried rounding to 2 decimals)" in result.output
    )
    assert (
        "\n  e step 2 (target L): printed 0.12, but the printed numbers give 0.13 (0.125 "
        "rounded half-up to 2 decimals)\n"
    ) in result.output
    assert result.stderr == "error: 1 of 1 exercises disagree with an oracle: e\n"


def test_uncarried_steps_are_judged_by_the_printed_numbers_rounding(work, monkeypatch):
    work(carry=False)
    # 1.50 stands for 1.495 … 1.505, so L may be 0.1225 … 0.1275: 0.12 is possible, 0.14 not
    record_steps(monkeypatch, [U, dict(L, result="0.12", latex=L["latex"].replace("0.13", "0.12"))])
    assert check("--no-torch").exit_code == 0
    record_steps(monkeypatch, [U, dict(L, result="0.14")])
    result = check("--no-torch")
    assert result.exit_code == 4
    assert (
        "  e step 2 (target L): printed 0.14 (from 0.135 to 0.145), but the printed numbers "
        "give 0.1225125 to 0.1275125 (each number printed with 2 decimals within ±0.005)\n"
    ) in result.output


def test_an_unknown_op_is_a_finding_not_a_skip(work, monkeypatch):
    work()
    record_steps(
        monkeypatch,
        [U, {"target": "L", "expr": {"op": "half_square", "args": ["0.50"]}, "result": "0.13"}],
    )
    result = check("--no-torch")
    assert result.exit_code == 4
    assert (
        "  e step 2 (target L): unknown op 'half_square' (expected one of: add, " in result.output
    )


def test_no_recorded_steps_are_said_and_fail_once_required(work, monkeypatch):
    work()
    record_steps(monkeypatch, None)
    monkeypatch.setattr(printed_steps, "STEPS_REQUIRED", False)
    result = check("--no-torch")
    assert result.exit_code == 0
    assert "printed steps skipped (none recorded)" in result.output
    assert (
        "not run: printed steps on e (none recorded); torch autograd on e (--no-torch)\n"
        in result.output
    )
    monkeypatch.setattr(printed_steps, "STEPS_REQUIRED", True)
    result = check("--no-torch")
    assert result.exit_code == 4
    assert (
        "printed steps FAILED (none recorded, though the key prints forward and backward steps)"
    ) in result.output


def test_torch_skipped_says_why(work, monkeypatch):
    from exgen.check import oracles

    work()
    record_steps(monkeypatch, None)
    monkeypatch.setattr(printed_steps, "STEPS_REQUIRED", False)
    monkeypatch.setattr(oracles, "torch_available", lambda: False)
    result = check()
    assert result.exit_code == 0
    assert "torch autograd skipped (PyTorch not installed)" in result.output
    assert (
        "not run: printed steps on e (none recorded); torch autograd on e (PyTorch not "
        "installed)\n1 exercise agrees with every oracle that ran\n" in result.output
    )
    assert "with every oracle\n" not in result.output


def test_every_oracle_only_when_every_oracle_ran(work, monkeypatch):
    from exgen.asks.pytorch import TorchResult
    from exgen.check import oracles

    work()
    record_steps(monkeypatch, [U, L])
    # PyTorch itself takes seconds to start; its agreement is tested in test_engine_oracles
    monkeypatch.setattr(oracles, "torch_available", lambda: True)
    monkeypatch.setattr(oracles, "run_torch", lambda ex, trace: TorchResult("", "", True, 3e-16))
    result = check()
    assert result.exit_code == 0, result.output
    assert "torch autograd ok (max. relative error " in result.output
    assert result.output.endswith(
        "ran: finite differences on e; exact vs float64 on e; printed "
        "steps on e; torch autograd on e\n"
        "1 exercise agrees with every oracle\n"
    )


KINK = """title: t
exercises:
  - id: k
    title: k
    network:
      equations: ["u1 = W1 @ x", "h = relu(u1)", "L = 0.5 * sum((h - t) ** 2)"]
      loss: L
      params: [W1]
    values: {W1: [[1, 0], [0, 1]], x: [1, 0], t: [0, 1]}
    ask: [forward, backward]
"""


def test_a_kink_is_explained_not_passed_as_ok(work):
    work(text=KINK.replace("{", "{{").replace("}", "}}"))
    result = check("--no-torch")
    assert result.exit_code == 0, result.output
    assert (
        "k: ok — finite differences not comparable at a kink: relu input u1[2] is 0; "
        "one-sided derivatives 0 and 1 (max. relative error 1.0e+00 at W1[2,1] (backprop "
        "0.0e+00, finite difference -5.0e-01), max. absolute error 5.0e-01); exact vs float64 ok"
    ) in result.output
    assert (
        "could not judge: finite differences on k (at a kink: relu input u1[2] is 0; "
        "one-sided derivatives 0 and 1 (max. relative error"
    ) in result.output
    assert result.output.endswith(
        "1 exercise agrees with every oracle that ran and could judge them\n"
    )


def test_each_variants_printed_steps_are_checked(work, monkeypatch):
    work(
        text=SHEET.replace(
            "exercises:", "variants:\n  seed: s\n  draw:\n    w: {{integers: [1, 3]}}\nexercises:"
        )
    )
    record_steps(monkeypatch, [dict(U, result="1.60")])
    result = check("--no-torch", "--variants", "2")
    assert result.exit_code == 4
    assert (
        "trouble: student 001, e step 1 (target u): printed 1.60, but the printed numbers "
        "give 1.50 (1.5 rounded half-up to 2 decimals)\n"
    ) in result.output
    assert result.stderr == "error: 2 problems among 2 variants\n"


def test_a_relative_error_of_one_is_explained(monkeypatch):
    """sheet11: float noise (−4e-17) beside an exact 0 gives a relative error of 1.0."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).parents[1])
    result = CliRunner().invoke(main, ["check", "sheet11-logic-chain-rule", "--no-torch"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("sheet11: "))
    assert re.search(
        r"finite differences ok \(max\. relative error 1\.0e\+00 at W2\[\d,\d\] "
        r"\(backprop -?\d\.\de-\d\d, finite difference -?\d\.\de[-+]\d\d: an absolute "
        r"difference below 1e-9, counted as agreeing\), max\. absolute error "
        r"\d\.\de-\d\d; at a kink: relu input Z1\[1,2\] is 0; one-sided derivatives 0 "
        r"and 1\)",
        line,
    ), line


def test_a_finding_from_a_plain_yes_or_no():
    from exgen.check.findings import Finding

    assert (
        Finding("truth table", True, "4 of 4 points right").line()
        == "truth table ok (4 of 4 points right)"
    )
    assert not Finding("truth table", False, "3 of 4 points right").ok

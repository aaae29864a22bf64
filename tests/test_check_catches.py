"""`exgen check` fails when what the key prints is wrong: a bracket dropped from one
operation's typesetting (the line then reads as another computation), or one operation's
numbers wrong (the printed numbers no longer give the printed result)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from exgen.check.line_reading import parts, read, reads_as
from exgen.cli import main

ROOT = Path(__file__).parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "exercises").glob("*.yaml"))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(name):
    return CliRunner().invoke(main, ["check", name, "--no-torch"])


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_key_reads_right(workdir, name):
    result = check(name)
    assert result.exit_code == 0, result.output
    assert "printed steps FAILED" not in result.output


def test_a_dropped_bracket_fails_the_check(workdir, monkeypatch):
    from exgen.typeset import spell

    monkeypatch.setattr(spell, "_bracket", lambda s, needed: s)  # never bracket
    result = check("hw4-residual-softmax")
    assert result.exit_code == 4, result.output
    assert "t1: MISMATCH" in result.output
    assert (
        "(target grad.w2): the printed line does not read as the computation it records: "
        r"\frac{\partial L}{\partial w_{2}} = v \cdot \frac{\partial L}{\partial "
        r"\left(w_{2} \cdot v\right)} = 0.40 \cdot -0.98 = -0.39" in result.output
    )


def test_one_operation_with_wrong_numbers_fails_the_check(workdir, monkeypatch):
    from exgen.engine.ops.relu import Relu

    monkeypatch.setattr(Relu, "forward", lambda self, x: x.copy())  # ReLU forgets the zeros
    result = check("sheet9")
    assert result.exit_code == 4, result.output
    assert "printed steps FAILED" in result.output
    assert (
        "q1 step 5 (target h1): entry [1]: printed -0.25, but the printed numbers give 0.00 "
        "(0 rounded half-up to 2 decimals)" in result.output
    )


def test_reading_follows_precedence():
    assert read(r"{\left(-7.00\right)}^{2}") == ("pow", ("-7.00", "2"), ())
    assert read(r"-{7.00}^{2}") == ("neg", (("pow", ("7.00", "2"), ()),), ())
    assert read(r"2 - \left(3 - 4\right)") == ("sub", ("2", ("sub", ("3", "4"), ())), ())
    assert parts(r"a = \frac{1}{2} = 0.50") == ["a", r"\frac{1}{2}", "0.50"]
    line = r"y = 0.50 \cdot -1.96 = -0.98"
    assert not reads_as(line, {"op": "mul", "args": ["0.50", "-1.96"]}, "-0.98")
    line = r"y = 0.50 \cdot \left(-1.96\right) = -0.98"
    assert reads_as(line, {"op": "mul", "args": ["0.50", "-1.96"]}, "-0.98")
    assert not reads_as(line, {"op": "mul", "args": ["0.50", "-1.96"]}, "-0.99")


def test_a_sum_of_contributions_reads_term_by_term():
    """An adjoint with two consumers: "A + B = a + b = r" says A = a and B = b."""
    line = r"g = 2 \cdot 0.50 + \frac{3}{4} = 1.00 + 0.75 = 1.75"
    assert reads_as(line, {"op": "mul", "args": ["2", "0.50"]}, "1.00")
    assert reads_as(line, {"op": "div", "args": ["3", "4"]}, "0.75")
    assert not reads_as(line, {"op": "div", "args": ["3", "4"]}, "1.00")  # not its term
    assert reads_as(line, {"op": "add", "args": ["1.00", "0.75"]}, "1.75")


LOG_SHEET = """title: t
exercises:
  - id: e
    title: e
    network:
      equations: ["u = w * x", "L = log(u)"]
      loss: L
      params: [w]
    values: {w: 0.000001, x: 1}
    ask: [numeric_check]
"""


def test_a_numeric_check_step_that_leaves_the_domain_is_a_message(workdir):
    (workdir / "exercises" / "logstep.yaml").write_text(LOG_SHEET)
    result = CliRunner().invoke(main, ["build", "logstep", "--no-pdf"])
    assert result.exit_code == 2
    assert result.output.endswith(
        "error: exercises/logstep.yaml:10: exercises[0].ask: numeric_check: shifting w by ±1e-05 "
        "makes the network uncomputable ('log(u)' takes the log of a value ≤ 0); ask for a "
        "smaller step, e.g. numeric_check: {step: 1e-07}\n"
    )
    assert not (workdir / "out" / "logstep").exists()


def test_a_printed_scalar_in_a_matrix_product_is_a_1x1_matrix():
    from exgen.check.step_judging import judge

    step = {
        "expr": {
            "op": "matmul",
            "args": ["-2.75", {"op": "transpose", "args": [[["0.00"], ["1.00"]]]}],
        },
        "result": [["0.00", "-2.75"]],
    }
    assert judge(step, 2, True) is None
    assert judge(dict(step, result=[["0.00", "-2.76"]]), 2, True) is not None


def test_numbers_in_scientific_notation_are_read_and_judged_by_their_own_rounding():
    from exgen.check.step_judging import judge

    step = {"expr": {"op": "add", "args": ["4.5036×10¹⁵", "0.0181"]}, "result": "4.5036×10¹⁵"}
    assert judge(step, 4, True) is None
    assert judge(dict(step, result="4.5038×10¹⁵"), 4, True) is not None
    line = r"y = 4.5036 \times 10^{15} + 0.0181 = 4.5036 \times 10^{15}"
    assert reads_as(line, step["expr"], step["result"])


def test_finite_differences_at_a_huge_loss_are_not_comparable_not_failed():
    from exgen.asks.numeric_check import CheckRow

    row = CheckRow(
        "w", np.array([[7.8]]), np.array([[0.0]]), np.array([[1.0]]), resolution=np.array([[2.9e8]])
    )
    assert not row.agrees and row.unresolved
    tight = CheckRow(
        "w", np.array([[7.8]]), np.array([[0.0]]), np.array([[1.0]]), resolution=np.array([[1e-6]])
    )
    assert not tight.unresolved


UPDATE_ONLY = """title: t
rounding: {digits: 2, carry: true}
exercises:
  - id: e
    title: e
    network:
      equations: ["u = w * x", "L = 0.5 * (u - t) ** 2"]
      loss: L
      params: [w]
    values: {w: 0.5, x: -3, t: 1}
    ask: [update: {lr: 0.1}]
"""


def test_the_passes_an_update_builds_on_are_recorded_and_checked(workdir):
    """The key prints the forward and backward passes an update needs: key.json records
    (and exgen check judges) those lines too, not only the update's own."""
    import json

    (workdir / "exercises" / "upd.yaml").write_text(UPDATE_ONLY)
    assert CliRunner().invoke(main, ["build", "upd", "--no-pdf"]).exit_code == 0
    steps = json.loads((workdir / "out" / "upd" / "key.json").read_text())["exercises"]["e"][
        "steps"
    ]
    targets = [s["target"] for s in steps]
    assert targets[0] == "u" and "grad.w" in targets and targets[-1] == "update.w"
    result = check("upd")
    assert result.exit_code == 0, result.output
    assert f"printed steps ok ({len(steps)} steps recomputed" in result.output


def test_a_wrong_term_of_a_shared_weights_sum_fails_the_check(workdir):
    """The RNN's W_h is used at every time step: the key writes ∂L/∂W_h as the visible sum
    of one contribution per step, each worked out from its numbers, then the total. One
    term printed wrong (and carried into the sum as printed) is caught by its own claim,
    and a total that does not add up is caught by the sum's."""
    import json

    from exgen.check.findings import FAILED, OK
    from exgen.check.printed_steps import check_printed_steps

    assert CliRunner().invoke(main, ["build", "rnn", "--no-pdf"]).exit_code == 0
    key = json.loads((workdir / "out" / "rnn" / "key.json").read_text())
    entry = key["exercises"]["bptt"]
    mine = [s for s in entry["steps"] if s["target"] == "grad.W_h"]
    terms, total = mine[:-1], mine[-1]
    assert [s["expr"]["op"] for s in mine] == ["matmul"] * 3 + ["add"]  # one per time step
    example = [s for s in entry["steps"] if s["target"] == "example.grad.W_h"]
    # one entry worked out: a product per step, each giving its printed term, then the sum
    assert [s["expr"]["op"] for s in example] == ["mul"] * 3 + ["add"]
    assert check_printed_steps("bptt", entry, key["rounding"]).status == OK

    right = terms[0]["result"][0][0]
    wrong = f"{float(right) + 0.01:.2f}"
    terms[0]["result"][0][0] = wrong  # the step-3 contribution printed wrong…
    total["expr"]["args"][0]["args"][0][0][0] = wrong  # …and added up as printed
    finding = check_printed_steps("bptt", entry, key["rounding"])
    assert finding.status == FAILED
    problems = "\n".join(finding.problems)
    assert (
        f"(target grad.W_h): entry [1,1]: printed {wrong}, but the printed numbers give {right}"
        in problems
    )
    assert problems.count("(target grad.W_h)") == 2, problems  # the term and the total

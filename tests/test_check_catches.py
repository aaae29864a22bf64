"""`exgen check` fails when what the key prints is wrong: a bracket dropped from one
operation's typesetting (the line then reads as another computation), or one operation's
numbers wrong (the printed numbers no longer give the printed result)."""
from __future__ import annotations

import shutil
from pathlib import Path

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
    assert "(target grad.w2): the printed line does not read as the computation it records: " \
           r"\frac{\partial L}{\partial w_{2}} = v \cdot \frac{\partial L}{\partial " \
           r"\left(w_{2} \cdot v\right)} = 0.40 \cdot -0.98 = -0.39" in result.output


def test_one_operation_with_wrong_numbers_fails_the_check(workdir, monkeypatch):
    from exgen.engine.ops.relu import Relu
    monkeypatch.setattr(Relu, "forward", lambda self, x: x.copy())  # ReLU forgets the zeros
    result = check("sheet9")
    assert result.exit_code == 4, result.output
    assert "printed steps FAILED" in result.output
    assert "q1 step 3 (target h1): entry [1]: printed -0.25, but the printed numbers give 0.00 " \
           "(0 rounded half-up to 2 decimals)" in result.output


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

"""The input boundary (issue 8): every odd input a fuzzer found ends in a DefinitionError
(exit 2) naming file, line, key path and what was expected, or works as it should."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from exgen.cli import main
from exgen.engine.rounding import (
    latex_number,
    parse_shown,
    round_half_up,
    shown,
    shown_given,
    to_fraction,
)

Q3 = (Path(__file__).parent / "fixtures" / "q3.yaml").read_text()  # seed 002, question 3
F = "exercises/bad.yaml"


def edit(old, new, text=Q3):
    assert old in text, old
    return text.replace(old, new, 1)


def scalar_net(equations: str, values: str, ask: str = "forward, backward") -> str:
    """A one-exercise sheet: equations (quoted, comma-separated), values (the first one
    the parameter), asks."""
    param = values.split(":")[0]
    return (
        f"title: t\nexercises:\n  - id: a\n    title: t\n    network:\n"
        f"      equations: [{equations}]\n      loss: L\n      params: [{param}]\n"
        f"    values: {{{values}}}\n    ask: [{ask}]\n"
    )


def logic(region: str) -> str:
    return (
        f"title: t\nexercises:\n  - id: a\n    title: t\n    ask:\n      - logic:\n"
        f"          region: [{region}]\n"
    )


def snippet(shape: str) -> str:
    return (
        "title: t\nexercises:\n  - id: a\n    title: t\n    network:\n"
        "      equations: ['y = W @ x', 'L = sum(y)']\n      loss: L\n    random:\n"
        "      seed: 1\n      draws:\n"
        f"        - {{name: W, dist: randn, shape: {shape}}}\n"
        "        - {name: x, dist: randn, shape: [2]}\n    ask: [forward]\n"
    )


def variants(rule: str, extra: str = "") -> str:
    return edit(
        "exercises:", f"variants:\n  seed: s\n  draw:\n    q3.W3: {rule}\n{extra}exercises:"
    )


def matrix(n: int, m: int, value: str = "0.5") -> str:
    return "[" + ", ".join("[" + ", ".join([value] * m) + "]" for _ in range(n)) + "]"


PLAIN = "definitions hold plain values (numbers, texts, true/false, lists and mappings)"
CONTROL = "is not allowed in a definition (control and non-characters; write text only)"
RANGE = "between -1e15 and 1e15"
DECIMAL = "write numbers in decimal, like 1000, 0.5 or 2e-3; found"
EXPONENT = "exponents are at most 64 in magnitude"
DEEP = "expression nested too deeply (at most 64 levels)"

CASES = {
    # reading YAML
    "a date that does not exist": (
        edit("course:", "due: 2024-02-30\ncourse:"),
        f"{F}:4: due: expected a date (YYYY-MM-DD), found '2024-02-30'",
    ),
    "!!float abc": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, !!float abc, 4]"),
        f"{F}:27: exercises[0].values.x[2]: expected a number, found 'abc'",
    ),
    "!!int abc": (
        edit("points: 7", "points: !!int abc"),
        f"{F}:9: exercises[0].points: expected a whole number, found 'abc'",
    ),
    "!!python/object": (
        edit("x: [1, 2, 3, 4]", "x: !!python/object:os.system [1]"),
        f"{F}:27: exercises[0].values.x: the tag !!python/object:os.system is not allowed; {PLAIN}",
    ),
    "an unknown tag": (
        edit("x: [1, 2, 3, 4]", "x: !foo [1, 2, 3, 4]"),
        f"{F}:27: exercises[0].values.x: the tag !foo is not allowed; {PLAIN}",
    ),
    "!!binary": (
        edit("course:", "course: !!binary aGk=\ncurse:"),
        f"{F}:4: course: the tag !!binary is not allowed; {PLAIN}",
    ),
    "!!set": (
        edit("course:", "course: !!set {a}\ncurse:"),
        f"{F}:4: course: the tag !!set is not allowed; {PLAIN}",
    ),
    "an integer of 5,000 digits": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, " + "9" * 5000 + "]"),
        f"{F}:27: exercises[0].values.x[3]: expected a number of at "
        "most 40 digits, found one of 5000",
    ),
    "lists nested 900 deep": (
        edit("course:", "course: " + "[" * 900 + "]" * 900 + "\ncurse:"),
        f"{F}:4: course[0][0][0][0][0]…: lists and mappings nested too deeply (at most 32 levels)",
    ),
    "mappings nested 900 deep": (
        edit("course:", "course: " + "{a: " * 900 + "1" + "}" * 900),
        f"{F}:4: course.a.a.a.a.a…: lists and mappings nested too deeply (at most 32 levels)",
    ),
    "NUL": (
        edit("Backpropagation", "Back\0propagation"),
        f"{F}:8: exercises[0].title: the character U+0000 {CONTROL}",
    ),
    "ESC": (
        edit("Backpropagation", "Back\x1bpropagation"),
        f"{F}:8: exercises[0].title: the character U+001B {CONTROL}",
    ),
    "U+FFFE": (
        edit("Backpropagation", "Back\ufffepropagation"),
        f"{F}:8: exercises[0].title: the character U+FFFE {CONTROL}",
    ),
    "a key given twice": (
        edit("course:", "title: again\ncourse:"),
        f"{F}:4: title: the key 'title' is given twice (lines 3 and 4); give it once",
    ),
    "a value given twice": (
        edit("yhat: [1, 0]", "yhat: [1, 0]\n      yhat: [0, 1]"),
        f"{F}:29: exercises[0].values.yhat: the key 'yhat' is given twice "
        "(lines 28 and 29); give it once",
    ),
    "NUL written as an escape": (
        edit("title: Deep", 'title: "\\0" # Deep'),
        f"{F}:3: title: the character U+0000 {CONTROL}",
    ),
    # numbers
    "1.0e+22 in a value": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, 1.0e+22]"),
        f"{F}:27: exercises[0].values.x[3]: expected a number {RANGE}, found 1.0e+22",
    ),
    "1.0e+400 in a value": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, 1.0e+400]"),
        f"{F}:27: exercises[0].values.x[3]: expected a number {RANGE}, found 1.0e+400",
    ),
    "a whole number beyond the range": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, 10000000000000000]"),
        f"{F}:27: exercises[0].values.x[3]: expected a number {RANGE}, found 10000000000000000",
    ),
    "a constant 1e309": (
        edit("z1 = relu(u1)", "z1 = relu(u1) * 1e309"),
        f"{F}:18: exercises[0].network.equations[1]: the number 1e309 is out of "
        f"range (numbers are {RANGE})",
    ),
    "exp(u) with u = 1000": (
        scalar_net("'y = exp(u)', 'L = sum(y)'", "u: 1000"),
        f"{F}:6: exercises[0].network.equations[0]: 'exp(u)' cannot be computed: overflow in exp",
    ),
    "(w*x) ** 5000": (
        scalar_net("'y = (w*x) ** 5000', 'L = sum(y)'", "w: 2, x: 3"),
        f"{F}:6: exercises[0].network.equations[0]: the exponent in "
        f"'(w * x) ** 5000' is 5000; {EXPONENT}",
    ),
    "u ** 100000000": (
        scalar_net("'y = u ** 100000000', 'L = sum(y)'", "u: 2"),
        f"{F}:6: exercises[0].network.equations[0]: the exponent in "
        f"'u ** 100000000' is 100000000; {EXPONENT}",
    ),
    "u ** -65": (
        scalar_net("'y = u ** -65', 'L = sum(y)'", "u: 2"),
        f"{F}:6: exercises[0].network.equations[0]: the exponent in 'u ** (-65)' is -65; "
        f"{EXPONENT}",
    ),
    "powers of powers beyond 10^300": (
        scalar_net("'y = u ** 64', 'z = y ** 64', 'L = sum(z)'", "u: 3"),
        f"{F}:6: exercises[0].network.equations[1]: 'y ** 64' "
        "cannot be computed: it reaches a value beyond 10³⁰⁰",
    ),
    "0x1": (
        scalar_net("'y = u * 0x1', 'L = sum(y)'", "u: 2"),
        f"{F}:6: exercises[0].network.equations[0]: {DECIMAL} '0x1'",
    ),
    "0b1": (
        scalar_net("'y = u * 0b1', 'L = sum(y)'", "u: 2"),
        f"{F}:6: exercises[0].network.equations[0]: {DECIMAL} '0b1'",
    ),
    "1_000": (
        scalar_net("'y = u * 1_000', 'L = sum(y)'", "u: 2"),
        f"{F}:6: exercises[0].network.equations[0]: {DECIMAL} '1_000'",
    ),
    "update lr .inf": (
        scalar_net("'y = u * w', 'L = sum(y)'", "u: 2, w: 3", "forward, {update: {lr: .inf}}"),
        f"{F}:10: exercises[0].ask[1].update.lr: expected a finite number, found inf",
    ),
    "points .inf": (
        edit("points: 7", "points: .inf"),
        f"{F}:9: exercises[0].points: expected a finite number, found inf",
    ),
    "negative points": (
        edit("points: 7", "points: -3"),
        f"{F}:9: exercises[0].points: expected a number ≥ 0, found -3",
    ),
    # variants
    "grid [0, .inf, 1]": (
        variants("{grid: [0, .inf, 1]}"),
        f"{F}:8: variants.draw.q3.W3.grid[1]: expected a finite number, found inf",
    ),
    "grid [.nan, 1, 0.5]": (
        variants("{grid: [.nan, 1, 0.5]}"),
        f"{F}:8: variants.draw.q3.W3.grid[0]: expected a finite number, found nan",
    ),
    "choice [.nan]": (
        variants("{choice: [.nan]}"),
        f"{F}:8: variants.draw.q3.W3.choice[0]: expected a finite number, found nan",
    ),
    "integers beyond the range": (
        variants("{integers: [0, 10000000000000000]}"),
        f"{F}:8: variants.draw.q3.W3.integers[1]: expected a number "
        "≤ 1e15, found 10000000000000000",
    ),
    "snippet shape [1, -2]": (
        snippet("[1, -2]"),
        f"{F}:11: exercises[0].random.draws[0].shape[1]: expected a number ≥ 1, found -2",
    ),
    "snippet shape [2147483648, 2]": (
        snippet("[2147483648, 2]"),
        f"{F}:11: exercises[0].random.draws[0].shape[0]: expected a "
        "number ≤ 10000, found 2147483648",
    ),
    "snippet shape [100000, 100000]": (
        snippet("[100000, 100000]"),
        f"{F}:11: exercises[0].random.draws[0].shape[0]: expected a number ≤ 10000, found 100000",
    ),
    "snippet shape [101, 100]": (
        snippet("[101, 100]"),
        f"{F}:11: exercises[0].random.draws[0]: shape [101, 100] has "
        "10100 numbers; at most 10000 per value",
    ),
    "snippet scale .inf": (
        snippet("[2, 2], scale: .inf"),
        f"{F}:11: exercises[0].random.draws[0].scale: expected a finite number, found inf",
    ),
    # logic regions and expression size
    "region 'x1 + 1e999 > 0'": (
        logic("'x1 + 1e999 > 0'"),
        f"{F}:7: exercises[0].ask[0].logic.region[0]: the number 1e999 is "
        f"out of range (numbers are {RANGE})",
    ),
    "region with 5,000 unary minuses": (
        logic("'" + "-" * 5000 + "x1 > 0'"),
        f"{F}:7: exercises[0].ask[0].logic.region[0]: expected a "
        "text of at most 500 characters, found 5006 characters",
    ),
    "region with 400 unary minuses": (
        logic("'" + "-" * 400 + "x1 > 0'"),
        f"{F}:7: exercises[0].ask[0].logic.region[0]: {DEEP}",
    ),
    "region sum of 3,000 terms": (
        logic("'" + " + ".join(["x1"] * 3000) + " > 0'"),
        f"{F}:7: exercises[0].ask[0].logic.region[0]: expected a text of "
        "at most 500 characters, found 15001 characters",
    ),
    "region sum of 90 terms": (
        logic("'" + "+".join(["x1"] * 90) + " > 0'"),
        f"{F}:7: exercises[0].ask[0].logic.region[0]: {DEEP}",
    ),
    "equation with 1,500 unary minuses": (
        edit("z1 = relu(u1)", "z1 = " + "-" * 1500 + "u1"),
        f"{F}:18: exercises[0].network.equations[1]: {DEEP}",
    ),
    "equation with 5,000 unary minuses": (
        edit("z1 = relu(u1)", "z1 = " + "-" * 5000 + "u1"),
        f"{F}:18: exercises[0].network.equations[1]: equation is "
        "5007 characters long; at most 2000",
    ),
    "equation sum of 300 terms": (
        scalar_net("'y = " + " + ".join(["u"] * 300) + "', 'L = sum(y)'", "u: 2"),
        f"{F}:6: exercises[0].network.equations[0]: {DEEP}",
    ),
    # the work of a sheet
    "exact 100×100 @ 100×100": (
        scalar_net("'y = A @ B', 'L = sum(y)'", f"A: {matrix(100, 100)}, B: {matrix(100, 100)}"),
        f"{F}:9: exercises[0].values: the key needs about 2040082 units "
        "of work (one unit a computed number, or one product in a matrix "
        "product); at most 20000: make the values smaller (exercises[0] "
        "needs 2040082, most for y (100×100 times 100×100: 1000000 products))",
    ),
    "numeric check of a 60×60 parameter": (
        scalar_net(
            "'y = tanh(A @ x)', 'L = sum(y)'",
            f"A: {matrix(60, 60)}, x: {matrix(60, 1)}",
            "forward, numeric_check",
        ),
        f"{F}:10: exercises[0].ask[1]: the numeric check solves the network twice for each of "
        "the 3600 parameter entries: about 53071200 units of work; at most 2000000: use fewer "
        "or smaller parameters, or drop numeric_check",
    ),
    "unmeetable rules with 10,000 tries": (
        variants("{grid: [-1, 1, 0.05]}", "  require: [{max_abs: 0.0000001}]\n  tries: 10000\n"),
        f"{F}:11: variants.tries: 10000 tries of exercises[0] (464 units of work each) would take "
        "4640000 units before the rules are given up; at most 1500000: lower tries to 3232 or "
        "make the values smaller",
    ),
    "tries 100000": (
        variants("{grid: [-1, 1, 0.05]}", "  tries: 100000\n"),
        f"{F}:10: variants.tries: expected a number ≤ 10000, found 100000",
    ),
    # prompts the TeX parser would recurse into
    "a prompt with 1,500 nested braces": (
        edit("The activation", "$" + "{" * 1500 + "x" + "}" * 1500 + "$ The activation"),
        f"{F}:10: exercises[0].prompt: braces nested too deeply (at most 32 levels)",
    ),
    "a prompt with 900 \\frac": (
        edit("The activation", "$" + "\\frac{1}{" * 900 + "x" + "}" * 900 + "$ The activation"),
        f"{F}:10: exercises[0].prompt: braces nested too deeply (at most 32 levels)",
    ),
    "an intro with 100 nested braces": (
        edit("course:", "intro: $" + "{" * 100 + "}" * 100 + "$\ncourse:"),
        f"{F}:4: intro: braces nested too deeply (at most 32 levels)",
    ),
}


@pytest.fixture
def sheet_dir(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_odd_input_is_refused_with_a_clear_message(sheet_dir, case):
    text, message = CASES[case]
    (sheet_dir / F).write_bytes(text.encode())
    result = run("build", "bad", "--no-pdf")
    assert result.stderr == f"error: {message}\n"
    assert result.exit_code == 2
    assert not (sheet_dir / "out").exists()


def built(sheet_dir, text: str) -> dict:
    """key.json of a definition that must build."""
    (sheet_dir / F).write_text(text)
    result = run("build", "bad", "--no-pdf")
    assert result.exit_code == 0, result.output
    return json.loads((sheet_dir / "out" / "bad" / "key.json").read_text())["exercises"]["a"]


def test_exp_of_100_is_shown_in_scientific_notation(sheet_dir):
    key = built(sheet_dir, scalar_net("'y = exp(u)', 'L = sum(y)'", "u: 100"))
    assert key["values"]["y"]["shown"] == "2.69×10⁴³"
    assert key["values"]["y"]["value"] == pytest.approx(2.6881171418161356e43)


def test_exact_values_beyond_1e15_are_shown_in_scientific_notation(sheet_dir):
    key = built(sheet_dir, scalar_net("'y = u * u * u', 'L = sum(y)'", "u: 1e14"))
    assert key["values"]["u"]["shown"] == "100000000000000"
    assert key["values"]["y"]["shown"] == "1.00×10⁴²"
    assert key["grads"]["u"]["shown"] == "3.00×10²⁸"


def test_sigmoid_of_minus_1000_is_zero_not_an_underflow(sheet_dir):
    key = built(sheet_dir, scalar_net("'y = sigmoid(u)', 'L = sum(y)'", "u: -1000"))
    assert key["values"]["y"]["shown"] == "0.00"


def test_numeric_check_of_tiny_values_does_not_stop_at_underflow(sheet_dir):
    key = built(
        sheet_dir,
        scalar_net(
            "'y = u * w', 'L = sum(y * y)'", "u: 1e-200, w: 1e-200", "forward, numeric_check"
        ),
    )
    assert key["values"]["L"]["shown"] == "0.00"


def test_1e_minus_3_is_a_number(sheet_dir):
    key = built(sheet_dir, scalar_net("'y = u * 2e-3', 'L = sum(y)'", "u: 1e-3"))
    assert key["values"]["u"]["shown"] == "0.001"
    assert key["values"]["y"]["value"] == pytest.approx(2e-6)


def test_an_expression_64_levels_deep_still_builds(sheet_dir):
    built(sheet_dir, scalar_net("'y = " + " + ".join(["u"] * 60) + "', 'L = sum(y)'", "u: 2"))


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_only_a_regular_file_is_read(sheet_dir, kind):
    path = sheet_dir / "defs.yaml"
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)  # opening it for reading would block without O_NONBLOCK
        name, found = "defs.yaml", "a FIFO"
    elif kind == "device":
        name, found = "/dev/null", "a device"
    else:
        path.mkdir()
        name, found = "defs.yaml", "a folder"
    result = run("build", name, "--no-pdf")
    assert result.stderr == f"error: {name}: expected a definition file, found {found}\n"
    assert result.exit_code == 2


def test_not_utf8_names_the_line(sheet_dir):
    (sheet_dir / F).write_bytes(Q3.encode().replace(b"Backpropagation", b"Back\xffpropagation"))
    result = run("build", "bad", "--no-pdf")
    assert result.stderr == f"error: {F}:8: the file is not UTF-8 (byte 389)\n"
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "x, digits, text",
    [
        (Fraction(10) ** 22, 2, "1.00×10²²"),
        (1e22, 2, "1.00×10²²"),
        (-1.5e16, 2, "-1.50×10¹⁶"),
        (Fraction(999_999_999_999_999), 2, "999999999999999.00"),
        (Fraction(999_999_999_999_999_995, 1000), 2, "1.00×10¹⁵"),  # half-up crosses into 10¹⁵
        (Fraction(99_995) * 10**16, 2, "1.00×10²¹"),  # 9.9995×10²⁰ rounds up
        (Fraction(12_345) * 10**16, 2, "1.23×10²⁰"),
        (Fraction(12_345) * 10**16, 3, "1.235×10²⁰"),  # half-up in the mantissa
        (Fraction(-12_345) * 10**16, 3, "-1.235×10²⁰"),
        (Fraction(10) ** 300, 0, "1×10³⁰⁰"),
        (8.825, 2, "8.83"),
        (-0.004, 2, "0.00"),  # never -0.00
        (Fraction(-1, 1000), 2, "0.00"),
        (1e-200, 2, "0.00"),
    ],
)
def test_shown_at_any_magnitude(x, digits, text):
    assert shown(x, digits) == text


@pytest.mark.parametrize(
    "x, text",
    [
        (Fraction(10) ** 22, "1×10²²"),
        (-1.5e16, "-1.5×10¹⁶"),
        (Fraction(1, 1000), "0.001"),
        (3, "3"),
        (-0.0, "0"),
    ],
)
def test_given_values_are_shown_in_their_shortest_form(x, text):
    assert shown_given(x, 2) == text


def test_rounding_a_huge_float_keeps_it_a_float():
    assert round_half_up(1e300, 10) == 1e300
    assert round_half_up(-0.004, 2) == 0.0


@pytest.mark.parametrize(
    "x, digits, half",
    [
        (Fraction(12_345) * 10**16, 2, Fraction(10**18, 2)),  # 1.23×10²⁰: ±0.005×10²⁰
        (Fraction(-5, 4), 2, Fraction(1, 200)),
        (Fraction(10) ** 22, 0, Fraction(10**22, 2)),
        (-1.5e16, 3, Fraction(10**13, 2)),
        (8.825, 2, Fraction(1, 200)),  # the float read through 15 digits: 8.825 exactly
    ],
)
def test_a_shown_number_reads_back_within_half_a_unit(x, digits, half):
    value, read_half = parse_shown(shown(x, digits))
    assert read_half == half
    assert abs(value - to_fraction(x)) <= half


def test_scientific_numbers_in_latex():
    assert latex_number("1.23×10²⁰") == r"1.23 \times 10^{20}"
    assert latex_number("−0.50") == "-0.50"


def test_the_key_json_latex_of_a_large_value(sheet_dir):
    (sheet_dir / F).write_text(scalar_net("'y = u * u * u', 'L = sum(y)'", "u: 1e14"))
    assert run("build", "bad", "--no-pdf").exit_code == 0
    key = (sheet_dir / "out" / "bad" / "key.json").read_text()
    assert r"1.00 \\times 10^{42}" in key
    assert "×10" not in "".join(s["latex"] for s in json.loads(key)["exercises"]["a"]["steps"])


def test_the_largest_logic_design_is_not_held_to_the_key_work(sheet_dir):
    """A designed network runs on up to 729 test points but writes no steps: its ask's own
    bounds (3 inputs, 8 inequalities) hold it, not the work of a key."""
    region = ", ".join(f"'x1 + x2 + x3 + {i} > 0'" for i in range(8))
    (sheet_dir / F).write_text(
        logic(region).replace(
            "      - logic:\n", "      - logic:\n          inputs: [x1, x2, x3]\n"
        )
    )
    result = run("build", "bad", "--no-pdf")
    assert result.exit_code == 0, result.output

"""Bad input: a clear message naming file, line, key path and what was expected;
exit status 2; no traceback; an earlier good output left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from exgen.cli import main
from exgen.engine.equations import FUNCTIONS
from exgen.notebooks.from_scratch import NEEDS
from exgen.notebooks.tasks import TASKS

SHEET9 = (Path(__file__).parent / "fixtures" / "q3.yaml").read_text()  # seed 002, question 3
F = "exercises/bad.yaml"
ALLOWED = ", ".join(FUNCTIONS)  # the registry's functions; test_ops_registry pins where from


def edit(old, new, text=SHEET9):
    assert old in text, old
    return text.replace(old, new, 1)


CASES = {
    "yaml syntax": (
        edit("params: [W1, W2, W3]", "params: [W1, W2, W3"),
        f"{F}:26: invalid YAML: while parsing a flow sequence expected ',' or ']', but got ':'",
    ),
    "typo in a key": (
        edit("params:", "pramas:"),
        f"{F}:25: exercises[0].network.pramas: unknown key 'pramas' (did you mean 'params'?)",
    ),
    # a misspelt required key is unknown (pydantic says "missing" first)
    "typo of exercises": (
        edit("exercises:", "exercise:"),
        f"{F}:6: exercise: unknown key 'exercise' (did you mean 'exercises'?)",
    ),
    "typo in an exercise": (
        edit("    prompt:", "    promt:"),
        f"{F}:10: exercises[0].promt: unknown key 'promt' (did you mean 'prompt'?)",
    ),
    "typo of a required key in an exercise": (
        edit("    title:", "    titel:"),
        f"{F}:8: exercises[0].titel: unknown key 'titel' (did you mean 'title'?)",
    ),
    "typo of a layer's key": (
        edit(
            "    network:\n      equations:",
            "    network:\n      layers: [{kind: conv, sise: 3}]\n      loss: mse\n    net:\n      equations:",
        ),
        f"{F}:16: exercises[0].network.layers[0].sise: unknown key 'sise' (did you mean 'size'?)",
    ),
    "exercise as a text": (
        edit("exercises:\n", "exercises:\n  - q3\n"),
        f"{F}:7: exercises[0]: expected a mapping of keys (id, title, ask, points, prompt, "
        f"network, …), found 'q3'",
    ),
    "rounding as a text": (
        edit("rounding: {digits: 2, carry: true}", "rounding: two"),
        f"{F}:5: rounding: expected a mapping of keys (digits, figures, carry), found 'two'",
    ),
    "network as a text": (
        edit("    network:\n      equations:", "    network: mlp\n    net:\n      equations:"),
        f"{F}:15: exercises[0].network: expected a mapping of keys (equations, loss, layers, "
        f"params, layout, input, …), found 'mlp'",
    ),
    "draw rule as a text": (
        edit("exercises:\n", "variants: {seed: s, draw: {W1: grid}}\nexercises:\n"),
        f"{F}:6: variants.draw.W1: expected a mapping of keys (integers, grid, choice, "
        f"one_of), found 'grid'",
    ),
    "unknown function": (
        edit("z1 = relu(u1)", "z1 = gelu(u1)"),
        f"{F}:18: exercises[0].network.equations[1]: unknown function 'gelu' (allowed: {ALLOWED})",
    ),
    "keyword not taken": (
        edit("z1 = relu(u1)", "z1 = relu(u1, axis=0)"),
        f"{F}:18: exercises[0].network.equations[1]: relu() takes no keywords; "
        "found 'axis=' in 'relu(u1, axis=0)'",
    ),
    "keyword not a number": (
        edit("L = 0.5 * sum((y - yhat)**2)", "L = 0.5 * sum((y - yhat)**2, axis=k)"),
        f"{F}:23: exercises[0].network.equations[6]: axis= takes a number in sum(), "
        "found 'k' in 'sum((y - yhat) ** 2, axis=k)'",
    ),
    "keyword out of range": (
        edit("L = 0.5 * sum((y - yhat)**2)", "L = 0.5 * sum((y - yhat)**2, axis=2)"),
        f"{F}:23: exercises[0].network.equations[6]: axis= is 0 or 1 in sum(), "
        "found 2 in 'sum((y - yhat) ** 2, axis=2)'",
    ),
    "keyword an operation does not know": (
        edit("L = 0.5 * sum((y - yhat)**2)", "L = 0.5 * sum((y - yhat)**2, keepdims=1)"),
        f"{F}:23: exercises[0].network.equations[6]: sum() takes only axis=; "
        "found 'keepdims=' in 'sum((y - yhat) ** 2, keepdims=1)'",
    ),
    "two arguments": (
        edit("z1 = relu(u1)", "z1 = max(u1)"),
        f"{F}:18: exercises[0].network.equations[1]: max() takes exactly two arguments, "
        "found 'max(u1)'",
    ),
    "undefined name": (
        edit("u3 = W3 @ z1", "u3 = W3 @ z0"),
        f"{F}:21: exercises[0].network.equations[4]: undefined name 'z0' in "
        "'u3 = W3 @ z0': not under values and not assigned earlier",
    ),
    "used before assigned": (
        edit("- u1 = W1 @ x", "- u1 = W1 @ x + u2"),
        f"{F}:17: exercises[0].network.equations[0]: undefined name 'u2' in "
        "'u1 = W1 @ x + u2': not under values and not assigned earlier "
        "(it is assigned later: equations are read top to bottom)",
    ),
    "shape mismatch": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, 4, 5]"),
        f"{F}:29: exercises[0].values.W1: shape 3×4 does not fit W1 @ x with x of length 5",
    ),
    "elementwise mismatch": (
        edit("y = u3 + z2", "y = u3 + x"),
        f"{F}:27: exercises[0].values.x: u3 (of length 2) and x (of length 4) "
        "do not fit in 'u3 + x'",
    ),
    "ragged array": (
        edit("[0.2, 0.25, 0.4, 0.5]", "[0.2, 0.25, 0.4]"),
        f"{F}:29: exercises[0].values.W1: rows have different lengths: row 0 has 4 "
        "numbers, row 1 has 3",
    ),
    "non-numeric array": (
        edit("[0.2, 0.25, 0.4, 0.5]", "[0.2, abc, 0.4, 0.5]"),
        f"{F}:29: exercises[0].values.W1[1][1]: expected a number, found 'abc'",
    ),
    "boolean in array": (
        edit("x: [1, 2, 3, 4]", "x: [1, 2, true, 4]"),
        f"{F}:27: exercises[0].values.x[2]: expected a number, found true",
    ),
    "five dimensions": (
        edit("x: [1, 2, 3, 4]", "x: [[[[[1, 2, 3, 4]]]]]"),
        f"{F}:27: exercises[0].values.x[0][0][0][0]: expected a number, found a list "
        "(values have at most 4 dimensions)",
    ),
    "infinity": (
        edit("yhat: [1, 0]", "yhat: [1, .inf]"),
        f"{F}:28: exercises[0].values.yhat[1]: expected a finite number, found inf",
    ),
    "code via import": (
        edit("z1 = relu(u1)", 'z1 = __import__("os").system("echo hi")'),
        f"{F}:18: exercises[0].network.equations[1]: '__import__('os').system(...)' "
        f"is not allowed; only the functions {ALLOWED} may be called",
    ),
    "code via attribute": (
        edit("z1 = relu(u1)", "z1 = u1.__class__"),
        f"{F}:18: exercises[0].network.equations[1]: only '.T' (transpose) is "
        "allowed after a value, found '.__class__'",
    ),
    "code via lambda": (
        edit("- z1 = relu(u1)", "- 'z1 = (lambda: 1)()'"),
        f"{F}:18: exercises[0].network.equations[1]: 'lambda: 1(...)' is not "
        f"allowed; only the functions {ALLOWED} may be called",
    ),
    "two statements": (
        edit("z1 = relu(u1)", "z1 = relu(u1); import os"),
        f"{F}:18: exercises[0].network.equations[1]: expected one assignment "
        "'name = expression', found 'z1 = relu(u1); import os'",
    ),
    "non-scalar loss": (
        edit("L = 0.5 * sum((y - yhat)**2)", "L = 0.5 * (y - yhat)**2"),
        f"{F}:24: exercises[0].network.loss: the loss 'L' must be a scalar, found of "
        "length 2; wrap it in sum(...) or mean(...)",
    ),
    "duplicate exercise ids": (
        SHEET9 + SHEET9[SHEET9.index("  - id: q3") :],
        f"{F}:33: exercises[1].id: duplicate exercise id 'q3' (also exercises[0])",
    ),
    "alias": (
        "a: &a [1, 2]\nb: *a\n",
        f"{F}:2: YAML aliases (*a) are not allowed in definitions; write the value out",
    ),
    "empty file": (
        "",
        f"{F}: the file is empty; expected a sheet definition (title, exercises, …)",
    ),
    "comments only": (
        "# nothing yet\n",
        f"{F}: the file is empty; expected a sheet definition (title, exercises, …)",
    ),
    "top-level list": (
        "- 1\n- 2\n",
        f"{F}:1: expected a mapping of keys (title, exercises, …) at the top, found a list",
    ),
    "missing title": (
        edit("title: Deep Neural Networks — Assignment 9\n", ""),
        f"{F}:3: missing required key 'title'",
    ),
    "bad digits": (
        edit("digits: 2", "digits: two"),
        f"{F}:5: rounding.digits: expected a whole number, found 'two'",
    ),
    "bad carry": (
        edit("carry: true", "carry: maybe"),
        f"{F}:5: rounding.carry: expected true or false, found 'maybe'",
    ),
    "unknown ask": (
        edit("ask: [forward, backward]", "ask: [forward, graf]"),
        f"{F}:32: exercises[0].ask: unknown ask 'graf' (expected one of: forward, "
        "backward, gradients, numeric_check, graph, graph_backward, output_shapes, param_count, update, hessian, "
        "symbolic, softmax_ce, logic, pytorch)",
    ),
    "unused value": (
        edit("yhat: [1, 0]", "yhat: [1, 0]\n      foo: 3"),
        f"{F}:29: exercises[0].values.foo: 'foo' is given but no equation uses it",
    ),
    "unknown param": (
        edit("params: [W1, W2, W3]", "params: [W1, W2, W4]"),
        f"{F}:25: exercises[0].network.params[2]: 'W4' is not a given value "
        "(parameters are values the network learns)",
    ),
    "layout": (
        edit("params: [W1, W2, W3]", "params: [W1, W2, W3]\n      layout: diagonal"),
        f"{F}:26: exercises[0].network.layout: expected 'column' or 'row', found 'diagonal'",
    ),
    "no exercises": (
        "title: x\nexercises: []\n",
        f"{F}:2: exercises: expected at least 1 item, not 0",
    ),
    "log of zero": (
        edit("L = 0.5 * sum((y - yhat)**2)", "L = sum(log(yhat)) + sum(y)"),
        f"{F}:23: exercises[0].network.equations[6]: 'log(yhat)' takes the log of a value ≤ 0",
    ),
    "division by zero": (
        edit("y = u3 + z2", "y = u3 / (z2 - z2)"),
        f"{F}:22: exercises[0].network.equations[5]: 'u3 / (z2 - z2)' divides by zero",
    ),
    "assigned twice": (
        edit("z2 = relu(u2)", "z1 = relu(u2)"),
        f"{F}:20: exercises[0].network.equations[3]: 'z1' is assigned twice",
    ),
    "unknown notebook task": (
        edit(
            "ask: [forward, backward]",
            "ask: [forward, backward]\n    notebook: {tasks: [forwards]}",
        ),
        f"{F}:33: exercises[0].notebook.tasks: unknown task 'forwards' (expected one of: "
        f"{', '.join(TASKS)})",
    ),
    "notebook task out of order": (
        edit(
            "ask: [forward, backward]",
            "ask: [forward, backward]\n    notebook: {tasks: [numeric_check, backward]}",
        ),
        f"{F}:33: exercises[0].notebook.tasks: the task 'numeric_check' needs 'backward' before it",
    ),
    "autograd not last": (
        edit(
            "ask: [forward, backward]",
            "ask: [forward, backward]\n    notebook: {tasks: [autograd, backward]}",
        ),
        f"{F}:33: exercises[0].notebook.tasks: the task 'autograd' turns the data into tensors: "
        "list it last",
    ),
    "from scratch on another network": (
        edit(
            "ask: [forward, backward]",
            "ask: [forward, backward]\n    notebook: {tasks: [linear_forward]}",
        ),
        f"{F}:33: exercises[0].notebook.tasks[0]: the task 'linear_forward' {NEEDS}",
    ),
    "exponent not a number": (
        edit("(y - yhat)**2", "(y - yhat)**x"),
        f"{F}:23: exercises[0].network.equations[6]: the exponent in "
        "'(y - yhat) ** x' must be a number",
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
def test_bad_definition_is_refused_with_a_clear_message(sheet_dir, case):
    text, message = CASES[case]
    (sheet_dir / F).write_text(text)
    result = run("build", "bad", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output


def test_failed_build_leaves_the_earlier_output_untouched(sheet_dir):
    (sheet_dir / F).write_text(SHEET9)
    assert run("build", "bad", "--no-pdf").exit_code == 0
    before = {p.name: p.read_bytes() for p in (sheet_dir / "out" / "bad").iterdir()}
    (sheet_dir / F).write_text(edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, 4, 5]"))
    assert run("build", "bad", "--no-pdf").exit_code == 2
    after = {p.name: p.read_bytes() for p in (sheet_dir / "out" / "bad").iterdir()}
    assert after == before
    assert sorted(p.name for p in (sheet_dir / "out").iterdir()) == ["bad"]


def test_missing_sheet(sheet_dir):
    result = run("build", "nosuch", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exercises/nosuch.yaml: no such definition file (exercises/ holds no .yaml file)\n"
    )
    assert not (sheet_dir / "out").exists()


def test_missing_sheet_names_the_sheets_there(sheet_dir):
    for name in ("sheet9", "attention", "batchnorm"):
        (sheet_dir / "exercises" / f"{name}.yaml").write_text(SHEET9)
    (sheet_dir / "exercises" / "notes.txt").write_text("")
    result = run("build", "sheet99", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exercises/sheet99.yaml: no such definition file "
        "(sheets here: attention, batchnorm, sheet9)\n"
    )
    result = run("check", "sheet99")
    assert result.exit_code == 2
    assert result.stderr.endswith("(sheets here: attention, batchnorm, sheet9)\n")


def test_missing_sheet_without_an_exercises_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build", "sheet9", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exercises/sheet9.yaml: no such definition file "
        "(there is no exercises/ folder here)\n"
    )


def test_a_missing_file_given_as_a_path_lists_nothing(sheet_dir):
    result = run("build", "elsewhere/mine.yaml", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == "error: elsewhere/mine.yaml: no such definition file\n"


def test_alias_bomb_is_refused_before_expansion(sheet_dir):
    # expanded it would be 9**11 numbers: refused at the first alias, so no timing is needed
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    (sheet_dir / F).write_text("\n".join(lines) + "\n")
    result = run("build", "bad", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {F}:2: YAML aliases (*a0) are not allowed in definitions; write the value out\n"
    )


def test_huge_nesting_is_refused(sheet_dir):
    (sheet_dir / F).write_text(edit("z1 = relu(u1)", "z1 = " + "-" * 1500 + "u1"))
    result = run("build", "bad", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {F}:18: exercises[0].network.equations[1]: ")

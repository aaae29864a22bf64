"""How the key reads (issue 10, "Reading"): each defect as it was seen, pinned."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from exgen.build.single import solve_sheet, work_asks
from exgen.define.load import load_sheet
from exgen.engine.rounding import parse_shown
from exgen.render.documents import render

ROOT = Path(__file__).parents[1]


def rendered(name: str):
    sheet = load_sheet(str(ROOT / "exercises" / f"{name}.yaml"))
    traces = solve_sheet(sheet)
    return render(sheet, traces, [work_asks(sheet, e, t) for e, t in zip(sheet.exercises, traces)])


@pytest.fixture(scope="module")
def hw2():
    return rendered("hw2-numpy-backprop")


def _numeric_check(html: str) -> str:
    return html[html.index("Numerical check of the gradients") :]


def _matrices(html: str) -> list[list[str]]:
    """The cells of each matrix in ``html``, in order."""
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", table)]
        for table in re.findall(r'<span class="mat[^"]*"><table>(.*?)</table>', html, re.S)
    ]


def test_the_numeric_check_sets_its_two_matrices_apart_with_labels(hw2):
    """Was: ∂L/∂W₁ [backprop][numerical] side by side, read as a product."""
    section = _numeric_check(hw2.key_html)
    rows = re.findall(r'<div class="check-row"><span class="label">([^<]*)</span>', section)
    assert rows[:3] == ["by backprop", "by central differences", ""]
    assert rows.count("by central differences") == 6  # W1, b1, …, b3 of hw2
    for check in section.split('<div class="check">')[1:]:
        first, second = check.split('<div class="check-row">')[1:3]
        assert len(_matrices(first)) == len(_matrices(second)) == 1  # one matrix per line


def test_every_numeric_check_matrix_has_one_number_format(hw2):
    """Was: 3.99898e−06 beside −0.000983803 in one matrix (hw2, ∂L/∂W₂)."""
    matrices = _matrices(_numeric_check(hw2.key_html))
    assert len(matrices) == 12
    for cells in matrices:
        scientific = ["×10" in c for c in cells]
        assert all(scientific) or not any(scientific), cells
        assert not any("e-" in c or "e−" in c for c in cells)
        if not any(scientific):
            assert len({len(c.partition(".")[2]) for c in cells}) == 1, cells
    assert any("×10" in c for cells in matrices for c in cells)


def test_one_format_per_matrix_reads_back_to_six_significant_digits():
    from exgen.engine.rounding import shown_significant  # new in issue 10

    values = np.array([[3.99898e-06, -0.000983803], [0.000526033, 1.00057e-05]])
    texts = shown_significant(values)
    assert texts.tolist() == [["3.99898×10⁻⁶", "-9.83803×10⁻⁴"], ["5.26033×10⁻⁴", "1.00057×10⁻⁵"]]
    for text, value in zip(texts.reshape(-1), values.reshape(-1)):
        read, error = parse_shown(text)
        assert abs(float(read) - value) <= float(error)
    fixed = shown_significant(np.array([[-0.587988], [-0.00125797]]))
    assert fixed.tolist() == [["-0.58798800"], ["-0.00125797"]]


@pytest.mark.pdf
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_a_task_number_sits_on_the_line_of_its_text_beside_a_fraction(tmp_path):
    """Was: "2." floating above "Perform the backward pass … ∂L/∂w₁" (hw4's sheet)."""
    from weasyprint import HTML

    pdf = tmp_path / "sheet.pdf"
    HTML(string=rendered("hw4-residual-softmax").sheet_html).write_pdf(pdf)
    bbox = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = re.findall(
        r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', bbox
    )
    i = next(i for i, (_, w) in enumerate(words) if w == "2.")
    assert words[i + 1][1] == "Perform"
    number, text = float(words[i][0]), float(words[i + 1][0])
    assert abs(number - text) < 1.0, (number, text)


def test_the_softmax_derivation_sets_every_variable_index_in_italics():
    """Was: ∂P(y = i)/∂hᵢ with an upright i beside italic P(y = i), "for j = i" upright."""
    html = rendered("hw4-residual-softmax").key_html
    section = html[html.index("Softmax with cross-entropy") :]
    section = section[: section.index("With the numbers of this exercise")]
    visual = re.sub(r"<math.*?</math>", "", section, flags=re.S)
    assert re.findall(r"<sub>[A-Za-z≠]+</sub>", visual) == []  # a bare letter is upright
    assert '<sub><span class="mi">i</span></sub>' in visual
    assert 'for <span class="mi">j</span>' in visual
    assert "for j" not in visual and "yⱼ" not in visual


def test_one_convention_for_indices():
    from exgen.typeset.formula import Num, Row, Sym, Text
    from exgen.typeset.notation import index

    assert index("i") == Sym("i")
    assert index("in") == Row((Sym("i"), Sym("n")))
    assert index("12") == Num("12")
    assert index("out") == Text("out")
    assert index("j≠i") == Row((Sym("j"), Text("≠"), Sym("i")))


@pytest.fixture(scope="module")
def sheet9_key():
    from exgen.render.keyjson import key_document

    sheet = load_sheet(str(ROOT / "exercises" / "sheet9.yaml"))
    return key_document(sheet, solve_sheet(sheet))["exercises"]


def test_every_matrix_product_step_works_out_a_component(sheet9_key):
    """Was: question 1's W₁x and W₂h₁ (pieces of a₁ = W₁x + b₁) showed no "e.g." line,
    question 3's u₁ = W₁x did; nor did any backward matmul or element-wise square."""
    for exercise in ("q1", "q3"):
        steps = sheet9_key[exercise]["steps"]
        targets = [s["target"] for s in steps]
        products = [
            s["target"]
            for s in steps
            if not s["target"].startswith("example.")
            and (s["expr"].get("op") == "matmul" or "pow" in str(s["expr"]))
            and np.array(s["result"]).size > 1
        ]
        assert products, exercise
        # q1's ∂L/∂W₂ = [−1.00; −0.25] [0.00 1.00]: every entry x · 0 or x · 1, a copy
        copies = {"q1": ["grad.W2"], "q3": []}[exercise]
        for target in products:
            assert (f"example.{target}" in targets) == (target not in copies), (exercise, target)
    q1 = [s["target"] for s in sheet9_key["q1"]["steps"]]
    assert "example.W1 @ x" in q1 and "example.W2 @ h1" in q1 and "example.grad.h1" in q1


def test_a_worked_component_is_recorded_with_its_line(sheet9_key):
    step = next(s for s in sheet9_key["q1"]["steps"] if s["target"] == "example.grad.h1")
    assert step["expr"] == {
        "op": "add",
        "args": [{"op": "mul", "args": ["1", "-1.00"]}, {"op": "mul", "args": ["0.5", "-0.25"]}],
    }
    assert step["result"] == "-1.13"
    assert step["latex"].endswith(
        r"= 1 \cdot \left(-1.00\right) + 0.5 \cdot \left(-0.25\right) = -1.13"
    )


def test_an_entry_that_only_restates_a_number_is_not_worked_out():
    """x · 1, 0 · x, x + 0 say nothing: the next entry is worked out, or none."""
    from exgen.typeset.components import worked_entry
    from exgen.typeset.terms import apply, leaf, product

    def at(terms):
        return lambda i, j: [terms[i]]

    copies = [product(leaf("7.83"), leaf("1"), True), product(leaf("7.83"), leaf("2"), True)]
    assert worked_entry((("a",), ("b",)), at(copies)) == (1, 0, [copies[1]])
    nothing = [apply("add", leaf("0.50"), leaf("0")), product(leaf("0"), leaf("2"), True)]
    assert worked_entry((("a",), ("b",)), at(nothing)) is None
    assert worked_entry((("a",),), at(copies[1:])) is None  # one entry: the line is the work


def test_a_pass_through_chain_is_one_line():
    """Was: ∂L/∂y = ∂L/∂(y − ŷ) = [7.83; 5.93], then ∂L/∂u₃ = ∂L/∂y = [7.83; 5.93]."""
    from exgen.typeset.latex import line_latex
    from exgen.typeset.notation import Notation
    from exgen.typeset.steps import solution

    sheet = load_sheet(str(ROOT / "exercises" / "sheet9.yaml"))
    lines = {}
    for ex, trace in zip(sheet.exercises, solve_sheet(sheet)):
        if ex.spec.id in ("q1", "q3"):
            sol = solution(trace, Notation.of(trace.graph, sheet.spec.notation), ex.asks)
            lines[ex.spec.id] = [line_latex(s.lhs, s.parts) for s in sol.backward]
            for a, b in zip(sol.backward, sol.backward[1:]):
                restates = lambda s: len(s.parts) == 2 and not s.claims and not s.final  # noqa: E731
                assert not (restates(a) and restates(b) and b.parts[0] == a.lhs), line_latex(
                    b.lhs, b.parts
                )
    assert any(
        line.startswith(
            r"\frac{\partial L}{\partial \mathbf{u}_{3}} = "
            r"\frac{\partial L}{\partial \mathbf{y}} = "
        )
        and line.count("=") == 3
        for line in lines["q3"]
    ), lines["q3"]


def test_the_softmax_exercise_works_out_p_and_the_loss():
    """Was: hw4's softmax question used p in p − y without computing it, and never L."""
    from exgen.render.keyjson import key_document

    sheet = load_sheet(str(ROOT / "exercises" / "hw4-residual-softmax.yaml"))
    traces = solve_sheet(sheet)
    results = [work_asks(sheet, e, t) for e, t in zip(sheet.exercises, traces)]
    steps = key_document(sheet, traces, results)["exercises"]["t4"]["steps"]
    by_target = {s["target"]: s for s in steps}
    assert by_target["p"]["expr"]["op"] == "softmax"
    assert by_target["p"]["result"] == [["0.6590"], ["0.2424"], ["0.0986"]]
    assert by_target["L"]["result"] == "1.4170"
    html = render(sheet, traces, results).key_html
    t4 = html[html.index("Softmax with cross-entropy") :]
    assert t4.index("softmax</span>(") < t4.index("by backpropagation")


def test_the_chain_rule_exercise_shows_the_forward_pass_it_evaluates_at():
    """Was: sheet11's ∂y/∂w₁₃ used tanh(z₃) = 0.5717, … with no forward pass to read."""
    from exgen.render.keyjson import key_document

    sheet = load_sheet(str(ROOT / "exercises" / "sheet11-logic-chain-rule.yaml"))
    traces = solve_sheet(sheet)
    results = [work_asks(sheet, e, t) for e, t in zip(sheet.exercises, traces)]
    steps = key_document(sheet, traces, results)["exercises"]["ex2"]["steps"]
    targets = [s["target"] for s in steps]
    assert {"z3", "a3", "z5", "a5", "a6", "y"} <= set(targets)
    assert next(s for s in steps if s["target"] == "a3")["result"] == "0.5717"
    html = render(sheet, traces, results).key_html
    ex2 = html[html.index("The chain rule in a tanh network") :]
    assert ex2.index("<h3>Forward pass</h3>") < ex2.index("Chain rule as a sum over paths")


def test_the_inequalities_of_a_logic_exercise_are_set_as_math():
    """Was: "-x1 + 1 > 0" in italic text, hyphen for minus and x1 for x₁ (sheet11)."""
    html = rendered("sheet11-logic-chain-rule").sheet_html
    visual = re.findall(
        r'<span class="ineq"><math.*?</math><span aria-hidden="true">(.*?)</span></span>', html
    )
    assert len(visual) == 4
    assert visual[1] == '−<span class="mi">x</span><sub>1</sub>\u00a0+\u00a01\u00a0&gt;\u00a00'
    assert not any("x1" in q or "-" in q for q in visual)


def test_an_inequality_keeps_its_written_form():
    from exgen.asks.logic import inequality_formula
    from exgen.typeset.mathhtml import to_html

    html = to_html(inequality_formula("2*x1 - (x2 + 1) < 0.5"))
    assert html == (
        '2\u2009<span class="mi">x</span><sub>1</sub>\u00a0−\u00a0(<span class="mi">x</span>'
        "<sub>2</sub>\u00a0+\u00a01)\u00a0&lt;\u00a00.5"
    )


def test_a_mask_of_ones_hands_the_gradient_on_in_the_same_line():
    """Was: ∂L/∂z₂ = ∂L/∂y = [7.83; 5.93], then ∂L/∂u₂ = ∂L/∂z₂ ⊙ ReLU′(u₂) =
    [7.83; 5.93] ⊙ [1; 1] = [7.83; 5.93] (sheet9, question 3)."""
    from exgen.typeset.latex import line_latex
    from exgen.typeset.notation import Notation
    from exgen.typeset.steps import solution

    sheet = load_sheet(str(ROOT / "exercises" / "sheet9.yaml"))
    ex, trace = sheet.exercises[2], solve_sheet(sheet)[2]
    sol = solution(trace, Notation.of(trace.graph, sheet.spec.notation), ex.asks)
    u2 = next(s for s in sol.backward if s.target == "grad.u2")
    assert line_latex(u2.lhs, u2.parts) == (
        r"\frac{\partial L}{\partial \mathbf{u}_{2}} = \frac{\partial L}{\partial \mathbf{z}_{2}}"
        r" \odot \operatorname{ReLU}'\left(\mathbf{u}_{2}\right) = "
        r"\frac{\partial L}{\partial \mathbf{z}_{2}} = \frac{\partial L}{\partial \mathbf{y}} = "
        r"\begin{bmatrix}7.83 \\ 5.93\end{bmatrix}"
    )
    assert u2.note is not None  # ReLU′(u₂) = [1; 1] still shown
    assert not any(s.target == "grad.z2" for s in sol.backward)  # merged into ∂L/∂u₂

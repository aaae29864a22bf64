"""Wide steps (typeset/widths.py, mathhtml.matrix_html): set smaller down to a floor,
then wrapped after their + − ⊙, and only then their matrices split into blocks of
columns, never cut; narrow ones left alone."""

from __future__ import annotations

import re

from exgen.typeset.formula import Matrix, Op, Paren, Row, Sym
from exgen.typeset.mathhtml import matrix_html, step_html
from exgen.typeset.steps import Step
from exgen.typeset.widths import SIZES, WRAP, column_blocks, step_fit

WIDE = tuple(tuple(f"−0.0010421{c}" for c in range(5)) for _ in range(2))  # hw2's f − y


def test_column_blocks_are_as_even_as_can_be():
    assert column_blocks(5, None) == [(0, 5)]
    assert column_blocks(5, 5) == [(0, 5)]
    assert column_blocks(5, 4) == [(0, 3), (3, 5)]
    assert column_blocks(5, 1) == [(i, i + 1) for i in range(5)]


def test_a_narrow_step_keeps_its_size_and_its_matrices_whole():
    small = Matrix(rows=(("1", "2"), ("3", "4")))
    assert step_fit([Sym("W", bold=True), small]) == ("", [None, None])
    assert "matsplit" not in matrix_html(small.rows)


def test_a_step_too_wide_even_at_the_floor_is_split():
    one = Matrix(rows=WIDE)
    product = Row((one, one))  # a product has no place to wrap
    size, columns = step_fit([Sym("f", bold=True), product, one])
    assert size == SIZES[-1][0] and column_blocks(5, columns[1]) == [(0, 3), (3, 5)]
    assert columns[0] is None and columns[2] is None  # what fits whole stays whole


def test_a_wide_sum_wraps_after_its_operators_before_any_matrix_is_split():
    one = Matrix(rows=WIDE)
    size, columns = step_fit(
        [Sym("f", bold=True), Row((one, Op("−"), Paren(Row((one, Op("⊙"), one)))))]
    )
    assert size == SIZES[-1][0] and columns == [None, WRAP]
    step = Step(lhs=Sym("f", bold=True), parts=[Row((one, Op("−"), one))])
    html = str(step_html(step))
    assert "columns 1–3" not in html and "\u00a0− " in html  # a break after the −


def test_a_step_a_little_too_wide_is_set_smaller_not_split():
    left = Matrix(rows=(("−0.00713544",) * 4,) * 2)  # hw2's W3 z2: 2×4 times 4×5
    right = Matrix(rows=(("0.50343439",) * 5,) * 4)
    size, columns = step_fit([Sym("f", bold=True), Row((left, right))])
    assert size in [name for name, _ in SIZES[1:]] and columns == [None, None]


def test_a_split_matrix_prints_every_cell_once_under_its_column_marker():
    html = matrix_html(WIDE, 3)
    assert re.findall(r'class="cols">([^<]*)<', html) == ["columns 1–3", "columns 4–5"]
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert sorted(cells) == sorted(c for row in WIDE for c in row)


def test_step_html_marks_a_wide_step_and_splits_it():
    step = Step(
        lhs=Row((Sym("f", bold=True), Op("−"), Sym("y", bold=True))),
        parts=[Row((Matrix(rows=WIDE), Matrix(rows=WIDE)))],
    )
    html = str(step_html(step))
    assert 'class="step wider"' in html
    assert "columns 1–3" in html and "columns 4–5" in html


def test_brackets_around_a_matrix_or_fraction_are_drawn_to_its_height():
    tall = Step(
        lhs=Sym("s"), parts=[Row((Paren(Matrix(rows=(("1",), ("2",)))), Op("+"), Sym("x")))]
    )
    flat = Step(lhs=Sym("s"), parts=[Paren(Row((Sym("x"), Op("+"), Sym("y"))))])
    assert 'class="mat paren tall"' in str(step_html(tall))
    html = str(step_html(flat))
    assert "paren tall" not in html and "(" in html and ")" in html

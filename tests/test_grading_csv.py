"""Reading what students hand in: numbers as people write them, and every bad input
named by file, row and column."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exgen.errors import AnswersError
from exgen.grading.answers_csv import parse_number, read_answers


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.25", F(1, 4)),
        ("0,25", F(1, 4)),
        ("−0,25", F(-1, 4)),  # U+2212
        ("-.5", F(-1, 2)),
        ("  +3 ", F(3)),
        ("1 234.5", F(2469, 2)),
        ("1\u202f234,5", F(2469, 2)),  # narrow no-break space between thousands
        ("\u00a012\u00a0", F(12)),
        ("2.5e-3", F(1, 400)),
        ("", None),
        ("   ", None),
    ],
)
def test_numbers_as_people_write_them(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "1.2.3", "1,234.5", "12 34", "-", ".", "1e", "=1+1"])
def test_not_numbers(text):
    with pytest.raises(ValueError, match=r"not a number|one decimal mark"):
        parse_number(text)


@st.composite
def written(draw):
    """A decimal, and how a student might write it."""
    units = draw(st.integers(-(10**9), 10**9))
    decimals = draw(st.integers(0, 6))
    value = F(units, 10**decimals)
    whole, frac = divmod(abs(units), 10**decimals)
    digits = str(whole)
    if draw(st.booleans()):  # thousands grouped by spaces
        groups = []
        while len(digits) > 3:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = " ".join([digits, *groups])
    text = digits + (draw(st.sampled_from(".,")) + str(frac).zfill(decimals) if decimals else "")
    if units < 0:
        text = draw(st.sampled_from(["-", "\u2212"])) + text
    pad = st.text(alphabet=" \t\u00a0", max_size=3)
    return value, draw(pad) + text + draw(pad)


@given(written())
def test_every_way_of_writing_reads_back_exactly(case):
    value, text = case
    assert parse_number(text) == value


@given(st.text(max_size=20))
def test_anything_else_is_a_value_error_naming_the_text_or_a_number(text):
    try:
        value = parse_number(text)
    except ValueError as exc:
        assert repr(text) in str(exc)
    else:
        assert value is None or isinstance(value, F)


COLUMNS = ["q1 L", "q1 z[1]"]
CLASS = {"001": "Ada", "002": "Ben"}


def read(tmp_path, text, lenient=False):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return read_answers(path, CLASS, COLUMNS, lenient), str(path)


def test_reads_a_filled_form(tmp_path):
    answers, _ = read(tmp_path, '\ufeffid,name,q1 L,q1 z[1]\n001,Ada,"1,5",\n\n')
    assert answers.rows["001"]["q1 L"].value == F(3, 2)
    assert answers.rows["001"]["q1 z[1]"].value is None
    assert "002" not in answers.rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,name,q1 L,q1 z[1]\n007,X,1,2\n",
            ":2: column 'id': unknown student id '007' (not in the class)",
        ),
        (
            "id,name,q1 L,q1 z[1]\n001,A,1,2\n001,A,1,2\n",
            ":3: column 'id': student '001' appears twice (also row 2)",
        ),
        (
            "id,name,q1 L,q1 z[1],q1 y\n",
            ":1: column 'q1 y': not a collected answer (expected the columns of answer-form.csv)",
        ),
        (
            "id,name,q1 L,q1 z[1]\n001,A,1,1.2.3\n",
            ":2: column 'q1 z[1]': '1.2.3' is not a number (expected a number such as -0.25, "
            "−0,25 or 1 234.5, or an empty cell)",
        ),
        (
            "id,name,q1 L\n",
            ":1: missing column 'q1 z[1]' (keep every column of answer-form.csv; leave a cell "
            "empty for no answer)",
        ),
        ("name,id\n", ":1: the first column must be 'id', as in answer-form.csv"),
    ],
)
def test_bad_input_is_named_by_file_row_and_column(tmp_path, text, message):
    with pytest.raises(AnswersError) as caught:
        read(tmp_path, text)
    assert str(caught.value) == str(tmp_path / "in.csv") + message
    assert caught.value.exit_code == 2


def test_lenient_grades_the_rest(tmp_path):
    answers, path = read(tmp_path, "id,name,q1 L,q1 z[1]\n001,A,x,2\n002,B,1,2\n", lenient=True)
    assert [str(p) for p in answers.problems] == [
        path + ":2: column 'q1 L': 'x' is not a number (expected a number such as -0.25, "
        "−0,25 or 1 234.5, or an empty cell)"
    ]
    assert answers.rows["001"]["q1 L"].value is None and answers.rows["001"]["q1 L"].problem
    assert answers.rows["002"]["q1 L"].value == 1

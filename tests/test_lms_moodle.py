"""Moodle delivery: the cloze syntax written and read back, the Moodle XML of a class (its
numbers against each variant's key, a golden file, the importer's checks), and Moodle's
quiz Responses report read back.

Regenerate the golden file after an intended change with:
    EXGEN_REGENERATE=1 python3 -m pytest tests/test_lms_moodle.py
"""

from __future__ import annotations

import base64
import inspect
import os
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exgen.asks.collect import collected
from exgen.build.variants import Student, make_variant
from exgen.define.load import load_sheet
from exgen.engine.rounding import parse_shown
from exgen.errors import AnswersError
from exgen.grading.answers_csv import Given
from exgen.grading.grade import _key
from exgen.grading.policy import policy_of, right_interval
from exgen.lms import cloze
from exgen.lms.moodle_check import check_moodle_xml
from exgen.lms.moodle_responses import looks_like_moodle, read_moodle_responses
from exgen.lms.moodle_xml import moodle_xml
from exgen.lms.questions import Slot, class_questions
from exgen.lms.responses import Layout

GOLDEN = Path(__file__).parent / "golden" / "lms"
REGENERATE = os.environ.get("EXGEN_REGENERATE") == "1"
STUDENTS = [Student(f"{k:03d}") for k in range(1, 6)]
# collected() takes the collect list here and the exercise spec on main since ddda167
_TAKES_SPEC = "spec" in inspect.signature(collected).parameters


@pytest.fixture(scope="module")
def sheet9():
    sheet = load_sheet("sheet9")
    cq = class_questions(sheet, STUDENTS)
    return sheet, cq, moodle_xml(cq)


def _clozes(data: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(data)
    return {q.findtext("name/text"): q for q in root if q.get("type") == "cloze"}


def test_numbers_are_the_keys(sheet9):
    """Each sub-question's right interval is the policy's interval around the shown key
    value of that variant, worked out again from the key, and holds the key's value."""
    sheet, cq, data = sheet9
    clozes = _clozes(data)
    assert len(clozes) == len(STUDENTS) * len(cq.exercises)
    policies = {
        ex.spec.id: policy_of(sheet.spec.grading, ex.spec.grading) for ex in sheet.exercises
    }
    for student, questions in zip(STUDENTS, cq.variants):
        variant = make_variant(sheet, student)
        key = _key(variant.sheet, variant.traces)
        for q in questions:
            ex = next(e for e in variant.sheet.exercises if e.spec.id == q.exercise)
            ex_key = key["exercises"][q.exercise]
            spec = ex.spec if _TAKES_SPEC else ex.spec.collect
            shown = [c.shown for c in collected(q.exercise, ex_key, spec)]
            subs, _ = cloze.extract(clozes[q.name].findtext("questiontext/text"))
            assert len(subs) == len(shown) == len(q.slots)
            marks = cloze.weights(q.slots)
            for sub, value, slot, mark in zip(subs, shown, q.slots, marks):
                right = sub.alternatives[0]
                assert right.fraction == 1 and sub.weight == str(mark)
                assert right.interval == right_interval(value, policies[q.exercise])
                lo, hi = right.interval
                assert lo <= parse_shown(value)[0] <= hi
                assert len(sub.alternatives) == (2 if slot.close else 1)
            # the weights are the points shares, scaled alike
            assert [Fraction(m) for m in marks] == [
                s.points * sum(marks) / q.points for s in q.slots
            ]


def test_output_passes_the_check(sheet9):
    assert check_moodle_xml(sheet9[2]) == []


def test_golden_small_sheet():
    cq = class_questions(load_sheet("hw3-pytorch"), [Student("001"), Student("002")])
    data = moodle_xml(cq)
    golden = GOLDEN / "hw3-pytorch" / "moodle.xml"
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(data)
    assert golden.exists(), f"no golden {golden}; see the module docstring"
    assert data == golden.read_bytes(), f"moodle.xml differs from {golden}; see the docstring"
    assert check_moodle_xml(data) == []
    assert moodle_xml(cq) == data  # deterministic


def _quiz(text: str, files: dict[str, str] | None = None, root: str = "quiz") -> bytes:
    quiz = ET.Element(root)
    question = ET.SubElement(quiz, "question", type="cloze")
    ET.SubElement(ET.SubElement(question, "name"), "text").text = "q1 ABCDEF"
    body = ET.SubElement(question, "questiontext", format="html")
    ET.SubElement(body, "text").text = text
    for name, content in (files or {}).items():
        ET.SubElement(body, "file", name=name, path="/", encoding="base64").text = content
    ET.SubElement(question, "hidden").text = "0"
    return ET.tostring(quiz, encoding="utf-8")


PNG = base64.b64encode(b"\x89PNG").decode()
IMG = '<img src="@@PLUGINFILE@@/a.png">'


@pytest.mark.parametrize(
    "data, problems",
    [
        (_quiz("x = {2:NUMERICAL:=0.5:0.05}"), []),
        (_quiz(IMG + "{1:NM:=1:0}", {"a.png": PNG}), []),
        (
            _quiz(IMG + "{1:NM:=1:0}"),
            [
                "question 1 (q1 ABCDEF): <questiontext> refers to @@PLUGINFILE@@/a.png but has no such <file>"
            ],
        ),
        (
            _quiz("{1:NM:=1:0}", {"a.png": PNG}),
            [
                "question 1 (q1 ABCDEF): <questiontext> has <file> 'a.png', which its text never refers to"
            ],
        ),
        (
            _quiz(IMG + "{1:NM:=1:0}", {"a.png": "not base64!"}),
            ["question 1 (q1 ABCDEF): <questiontext> <file> 'a.png' is not valid base64"],
        ),
        (
            _quiz("<p>x = {1:NUMERICAL:=0.5:0.05</p>"),
            [
                "question 1 (q1 ABCDEF): no cloze sub-question (Moodle: questionsmissing)",
                "question 1 (q1 ABCDEF): the text has '{1:NUMERICAL:=0.5:0.05</p>', a sub-question Moodle cannot parse",
            ],
        ),
        (
            _quiz("x = {1:NUMERICAL:=0,5:0.05}"),
            [
                "question 1 (q1 ABCDEF): sub-question 1 '{1:NUMERICAL:=0,5:0.05}': '0,5:0.05' is not written with '.' and no exponent"
            ],
        ),
        (
            _quiz("x = {1:NUMERICAL:=half:0.05}"),
            [
                "question 1 (q1 ABCDEF): sub-question 1 '{1:NUMERICAL:=half:0.05}': 'half:0.05' is not a number (Moodle: answermustbenumberorstar)"
            ],
        ),
        (
            _quiz("x = {1:NUMERICAL:%50%0.5:0.05}"),
            [
                "question 1 (q1 ABCDEF): sub-question 1 '{1:NUMERICAL:%50%0.5:0.05}': no answer has full credit (Moodle: fractionsnomax)"
            ],
        ),
        (
            _quiz(r"\(\def\f#1{#1}\) {1:NM:=1:0}"),
            [
                "question 1 (q1 ABCDEF): the text has '{#1}', which Moodle's renderer takes for sub-question 1"
            ],
        ),
        (_quiz("{1:NM:=1:0}", root="questions"), ["the root element is <questions>, not <quiz>"]),
        (
            b"<quiz><question",
            [
                "not well-formed XML: line 1, column 16: Couldn't find end of Start Tag question line 1"
            ],
        ),
    ],
)
def test_check_finds(data, problems):
    assert check_moodle_xml(data) == problems


def test_text_is_escaped():
    """TeX that reads as a sub-question or a placeholder is left alone by Moodle."""
    text = r"\(\def\f#1{#1}\) {1:MC:a~b}"
    escaped = cloze.escape_text(text)
    assert escaped == r"\(\def\f#1{ #1}\) { 1:MC:a~b}"
    assert cloze.extract(escaped) == ([], escaped)
    assert not cloze.PLACEHOLDER.search(escaped)


finite = st.builds(
    lambda n, a, b: Fraction(n, 2**a * 5**b),
    st.integers(-(10**12), 10**12),
    st.integers(0, 12),
    st.integers(0, 12),
)


@given(finite, finite, st.fractions(0, 1).filter(lambda f: f > 0), st.integers(0, 50))
def test_round_trip_finite_decimals(a, b, credit, mark):
    lo, hi = min(a, b), max(a, b)
    close = (lo - 1, hi + 1, credit)
    slot = Slot("c", "0", "x", (lo, hi), close, Fraction(1))
    text = cloze.numerical(slot, mark)
    (sub,), rest = cloze.extract("a " + text + " b")
    assert rest == "a {#1} b" and sub.weight == str(mark) and sub.qtype == "numerical"
    right, near = sub.alternatives
    assert (right.fraction, right.interval) == (1, (lo, hi))
    assert near.interval == (lo - 1, hi + 1)
    assert abs(near.fraction - credit) <= Fraction(1, 10**10)  # P % to 12 digits
    numbers = text.split(":", 2)[2]
    assert "e" not in numbers.lower() and "," not in numbers


@given(st.fractions(), st.fractions(min_value=0))
def test_round_trip_any_fraction(centre, half):
    slot = Slot("c", "0", "x", (centre - half, centre + half), None, Fraction(1))
    (sub,), _ = cloze.extract(cloze.numerical(slot, 1))
    (right,) = sub.alternatives
    for got, want in ((right.centre, centre), (right.tolerance, half)):
        assert abs(got - want) <= abs(want) * Fraction(1, 10**11)


# Moodle's Responses report ------------------------------------------------------------


def _layout(cq) -> Layout:
    columns = {q.exercise: [s.column for s in q.slots] for q in cq.variants[0]}
    return Layout(columns, frozenset(q.code for qs in cq.variants for q in qs))


def _plain(question) -> str:
    """The question's text as Moodle's report writes it (HTML to plain text)."""
    return f"{question.title} — Variant {question.code} of question {question.exercise}\nFor the network below…"


def _write(path: Path, rows: list[list[str]], delimiter: str = ",", bom: bool = True) -> None:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))


ENGLISH = [
    "Surname",
    "First name",
    "Email address",
    "State",
    "Started on",
    "Completed",
    "Time taken",
    "Grade/20.00",
]
FRENCH = [
    "Nom de famille",
    "Prénom",
    "Adresse de courriel",
    "État",
    "Commencé le",
    "Terminé",
    "Temps utilisé",
    "Note/20,00",
]


def _report(cq, heads, part, question, response, right, values, comma: bool):
    q1, q2 = cq.variants[0][0], cq.variants[1][0]
    header = list(heads)
    for n in (1, 2):
        header += [f"{question} {n}", f"{response} {n}", f"{right} {n}"]

    def summary(q, texts):
        return "; ".join(f"{part} {k}{' :' if comma else ':'} {t}" for k, t in enumerate(texts, 1))

    key = [s.shown.replace(".", ",") if comma else s.shown for s in q1.slots]
    row1 = ["Lovelace", "Ada", "ada@example.org", "Finished", "", "", "", "12.00"]
    row1 += [_plain(q1), summary(q1, values), summary(q1, key)]
    row1 += [_plain(cq.variants[0][1]), "-", ""]
    row2 = ["Turing", "Alan", "alan@example.org", "Finished", "", "", "", "3.00"]
    row2 += [_plain(q2), summary(q2, values[:1]), "", _plain(cq.variants[1][1]), "", ""]
    footer = ["Overall average", "", "", "", "", "", "", "7.50"] + [""] * 6
    return header, [row1, row2, footer]


@pytest.mark.parametrize(
    "heads, part, words, comma, delimiter",
    [
        (ENGLISH, "part", ("Question", "Response", "Right answer"), False, ","),
        (FRENCH, "partie", ("Question", "Réponse", "Bonne réponse"), True, ";"),
        (FRENCH, "partie", ("Question", "Réponse", "Bonne réponse"), True, ","),
        (ENGLISH, "część", ("Pytanie", "Odpowiedź", "Prawidłowa odpowiedź"), True, ","),
        (ENGLISH, "الجزء", ("السؤال", "الإجابة", "الإجابة الصحيحة"), False, ","),
    ],
)
def test_responses_report(tmp_path, sheet9, heads, part, words, comma, delimiter):
    _, cq, _ = sheet9
    values = ["2,31" if comma else "2.31", "", "-0,5" if comma else "-0.5"]
    header, rows = _report(cq, heads, part, *words, values, comma)
    path = tmp_path / "responses.csv"
    _write(path, [header, *rows], delimiter)
    assert looks_like_moodle(header)
    got = read_moodle_responses(path, _layout(cq), lenient=False)
    assert [a.person for a in got.attempts] == ["ada@example.org", "alan@example.org"]
    assert [a.name for a in got.attempts] == ["Ada Lovelace", "Alan Turing"]
    assert [a.row for a in got.attempts] == [2, 5]  # each question text spans two lines
    q1 = cq.variants[0][0]
    code, given = got.attempts[0].exercises[q1.exercise]
    columns = [s.column for s in q1.slots]
    assert code == q1.code
    assert given[columns[0]] == Given(values[0], Fraction(231, 100))
    assert given[columns[1]] == Given("", None)
    assert given[columns[2]] == Given(values[2], Fraction(-1, 2))
    assert all(given[c] == Given("", None) for c in columns[3:])
    other = cq.variants[0][1]
    assert got.attempts[0].exercises[other.exercise] == (
        other.code,
        {s.column: Given("", None) for s in other.slots},
    )
    assert got.problems == []


def test_responses_without_email(tmp_path, sheet9):
    _, cq, _ = sheet9
    header, rows = _report(
        cq, ENGLISH, "part", "Question", "Response", "Right answer", ["1"], False
    )
    for row in [header, *rows]:
        del row[2]
    path = tmp_path / "r.csv"
    _write(path, [header, *rows], bom=False)
    got = read_moodle_responses(path, _layout(cq), lenient=False)
    assert [a.person for a in got.attempts] == ["Ada Lovelace", "Alan Turing"]


def test_responses_errors(tmp_path, sheet9):
    _, cq, _ = sheet9
    layout = _layout(cq)
    header, rows = _report(
        cq, ENGLISH, "part", "Question", "Response", "Right answer", ["1", "x1"], False
    )
    path = tmp_path / "r.csv"
    _write(path, [header, *rows])
    with pytest.raises(AnswersError) as error:
        read_moodle_responses(path, layout, lenient=False)
    assert str(error.value).startswith(
        f"{path}:2: column 'Response 1': part 2: 'x1' is not a number"
    )
    got = read_moodle_responses(path, layout, lenient=True)
    (problem,) = got.problems
    assert problem.row == 2 and problem.column == "Response 1"
    q1 = cq.variants[0][0]
    assert got.attempts[0].exercises[q1.exercise][1][q1.slots[1].column].text == "x1"
    assert got.attempts[0].exercises[q1.exercise][1][q1.slots[1].column].value is None

    no_text = [[c for k, c in enumerate(r) if k not in (8, 11)] for r in [header, *rows]]
    _write(path, no_text)
    with pytest.raises(AnswersError, match='tick "Question text"'):
        read_moodle_responses(path, layout, lenient=False)

    rows[0][8] = rows[0][8].replace(q1.code, "000000")
    _write(path, [header, *rows])
    with pytest.raises(AnswersError) as error:
        read_moodle_responses(path, layout, lenient=False)
    assert str(error.value).startswith(f"{path}:2: column 'Question 1': variant 000000 of question")


def test_exgen_form_is_not_moodle():
    assert not looks_like_moodle(["id", "name", "q1 L", "q1 dL/dW1[1,1]"])


def test_check_refuses_entities():
    data = b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaa">]><quiz>&a;</quiz>'
    assert check_moodle_xml(data) == [
        "the file has a DOCTYPE or ENTITY declaration, which Moodle XML never has"
    ]

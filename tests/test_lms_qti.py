"""The QTI 1.2 package for Canvas Classic Quizzes read back item by item, its check, the
values Canvas would mangle refused, and Canvas's Student Analysis reports read back.

Regenerate the golden assessment after an intended change with:
    EXGEN_REGENERATE=1 python3 -m pytest tests/test_lms_qti.py
"""

from __future__ import annotations

import csv
import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import pytest

from exgen.build.variants import Student
from exgen.define.load import load_sheet
from exgen.engine.rounding import parse_shown
from exgen.errors import AnswersError, ExportError
from exgen.grading.answers_csv import EXPECTED, Given
from exgen.lms.canvas_responses import looks_like_canvas, read_canvas_responses
from exgen.lms.qti import (
    QTI_NS,
    assessment_ident,
    canvas_mangles,
    image_path,
    item_line,
    qti_package,
)
from exgen.lms.qti_check import check_qti_package
from exgen.lms.questions import Slot, class_questions
from exgen.lms.responses import Layout

GOLDEN = Path(__file__).parent / "golden" / "lms"
REGENERATE = os.environ.get("EXGEN_REGENERATE") == "1"


def q(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


@pytest.fixture(scope="module")
def sheet9():
    cq = class_questions(load_sheet("sheet9"), [Student(f"{k:03}") for k in range(1, 6)])
    return cq, qti_package(cq)


def members(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {name: z.read(name) for name in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def test_every_item_holds_its_slots_range(sheet9):
    cq, data = sheet9
    files = members(data)
    assert data == qti_package(cq)  # deterministic
    for questions in cq.variants:
        ident = assessment_ident(cq.sheet, questions[0].code)
        root = ET.fromstring(files[f"{ident}/{ident}.xml"])
        assessment = root.find(q("assessment"))
        assert questions[0].code in assessment.get("title")
        sections = assessment.find(q("section")).findall(q("section"))
        assert [s.get("title") for s in sections] == [x.title for x in questions]
        for question, section in zip(questions, sections):
            items = section.findall(q("item"))
            assert len(items) == len(question.slots)
            for k, (slot, item) in enumerate(zip(question.slots, items)):
                lo, hi = (F(item.find(f".//{q(t)}").text) for t in ("vargte", "varlte"))
                assert (lo, hi) == slot.right
                assert lo <= parse_shown(slot.shown)[0] <= hi
                text = item.find(f".//{q('mattext')}").text
                assert text.startswith(f"<p>{item_line(question, k)}</p>")
                assert (question.text.split("\n")[1] in text) == (k == 0)
                fields = {
                    f.findtext(q("fieldlabel")): f.findtext(q("fieldentry"))
                    for f in item.iter(q("qtimetadatafield"))
                }
                assert fields["question_type"] == "numerical_question"
                assert F(fields["points_possible"]) == pytest.approx(slot.points, abs=1e-6)
                feedback = item.find(q("itemfeedback"))
                assert (feedback is not None) == (k == len(question.slots) - 1)
            for name, data in question.files.items():
                assert files[image_path(name, data)] == data
        meta = ET.fromstring(files[f"{ident}/assessment_meta.xml"])
        cc = "{http://canvas.instructure.com/xsd/cccv1p0}"
        assert meta.findtext(f"{cc}quiz_type") == "assignment"
        assert meta.findtext(f"{cc}title") == assessment.get("title")
        total = sum(x.points for x in questions)
        assert F(meta.findtext(f"{cc}points_possible")) == pytest.approx(total, abs=1e-6)


def test_the_check_finds_nothing_in_the_package(sheet9):
    assert check_qti_package(sheet9[1]) == []


def test_the_check_finds_broken_packages(sheet9):
    cq, data = sheet9
    files = members(data)
    ident = assessment_ident(cq.sheet, cq.variants[0][0].code)
    xml_name = f"{ident}/{ident}.xml"
    figure = cq.variants[0][0].files["q1-network.svg"]
    image = image_path("q1-network.svg", figure)  # every variant's: one file
    item = f"{ident}-q1-1"
    assert check_qti_package(b"not a zip") == ["not a zip file: File is not a zip file"]
    assert check_qti_package(rezip({xml_name: files[xml_name]})) == ["imsmanifest.xml is missing"]
    broken = {k: v for k, v in files.items() if k != image}
    problems = check_qti_package(rezip(broken))
    assert problems[0] == f"imsmanifest.xml lists {image}, which is not in the package"
    assert f"{xml_name}: item {item}: {image} is missing" in problems
    assert len(problems) == 1 + len(cq.variants)  # each variant's question q1 shows it
    bad = files[xml_name].replace(b"numerical_question", b"numeric", 1)
    assert check_qti_package(rezip({**files, xml_name: bad})) == [
        f"{xml_name}: item {item}: question_type 'numeric' is not one Canvas knows"
    ]
    bound = re.search(rb"<vargte[^>]*>([^<]*)<", files[xml_name])
    bad = files[xml_name].replace(bound[0], bound[0].replace(bound[1], b"2.3O"), 1)
    assert check_qti_package(rezip({**files, xml_name: bad})) == [
        f"{xml_name}: item {item}: vargte '2.3O' is not a number"
    ]
    upper = re.search(rb"<varlte[^>]*>([^<]*)<", files[xml_name])
    bad = files[xml_name].replace(upper[0], upper[0].replace(upper[1], b"-99"), 1)
    assert check_qti_package(rezip({**files, xml_name: bad})) == [
        f"{xml_name}: item {item}: the range {bound[1].decode()} to -99 is empty"
    ]
    manifest = files["imsmanifest.xml"].replace(f'"{ident}-meta"'.encode(), b'"gone"', 1)
    assert check_qti_package(rezip({**files, "imsmanifest.xml": manifest})) == [
        "imsmanifest.xml: a dependency on gone, which it does not list"
    ]
    assert check_qti_package(rezip({**files, "stray.txt": b""})) == [
        "stray.txt is in the package but not in imsmanifest.xml"
    ]
    assert check_qti_package(rezip({**files, xml_name: b"<questestinterop"})) == [
        f"{xml_name} does not parse: line 1, column 17: Couldn't find end of Start Tag questestinterop line 1"
    ]


def test_values_canvas_would_mangle_are_refused():
    cq = class_questions(load_sheet("hw2-numpy-backprop"), [Student("001")])
    with pytest.raises(ExportError) as caught:
        qti_package(cq)
    assert str(caught.value) == (
        "hw2-numpy-backprop: exercise backprop, variant D4CC67, column 'backprop L': Canvas "
        "keeps at most 4 decimals of a numeric answer and the lowest right answer, "
        "1.187785415, needs more than 4 decimal places; scale the answer in the definition "
        "(e.g. `scale: {grad.W1: 3}` in the exercise asks for ∂L/∂W1 × 10³)"
    )


@pytest.mark.parametrize(
    ("shown", "right", "reason"),
    [
        ("2.31", (F("2.305"), F("2.315")), None),
        ("2.3100", (F("2.3095"), F("2.3105")), None),  # trailing zeros are harmless
        ("0", (F(0), F(0)), None),
        (
            "0.00005",
            (F("0.00005"), F("0.00005")),
            "the lowest right answer, 0.00005, is below 0.0001 (Canvas would keep 0)",
        ),
        (
            "0.0001",
            (F("0.00005"), F("0.00015")),
            "the lowest right answer, 0.00005, is below 0.0001 (Canvas would keep 0)",
        ),
        (
            "12.34567",
            (F("12.3456"), F("12.3457")),
            "the key's value, 12.34567, needs more than 4 decimal places",
        ),
    ],
)
def test_canvas_mangles(shown, right, reason):
    assert canvas_mangles(Slot("q1 L", shown, "L", right, None, F(1))) == reason


def test_golden_assessment():
    cq = class_questions(load_sheet("pooling"), [Student("001"), Student("002")])
    files = members(qti_package(cq))
    ident = assessment_ident(cq.sheet, cq.variants[0][0].code)
    text = files[f"{ident}/{ident}.xml"].decode("utf-8")
    golden = GOLDEN / "pooling" / "assessment.xml"
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden {golden}; see the module docstring"
    assert text == golden.read_text(), f"differs from {golden}; see the module docstring"


# --- Canvas's Student Analysis report ---

FULL = ["name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted", "attempt"]


def plain(markup: str) -> str:
    """An item's text as Canvas's report heads its column: tags stripped."""
    return re.sub(r"<[^>]+>", "", markup).strip()


def report(path: Path, cq, v: int, rows: list[dict], head: list[str] = FULL) -> Path:
    """Variant v's quiz report as Canvas writes it: ``head``, then two columns a question
    (its answer, its score), then the counts; each row's ``answers`` in slot order."""
    header, item = list(head), 9000 + 100 * v
    for question in cq.variants[v]:
        for k, slot in enumerate(question.slots):
            text = item_line(question, k) + ("\n" + question.text if k == 0 else "")
            header += [f"{item}: {plain(text)}", f"{float(slot.points):.4f}"]
            item += 1
    header += ["n correct", "n incorrect", "score"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    fixed = {"section": "DL 2026", "section_id": "77", "submitted": "2026-12-01 10:00:00 UTC"}
    for row in rows:
        cells = [str(row.get(h, fixed.get(h, ""))) for h in head]
        for a in row["answers"]:
            cells += [a, "0.0"]
        writer.writerow(cells + ["0", "0", "0"])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def last_line(path: Path) -> int:
    """The last row's line: the headings hold the questions' text, line breaks and all."""
    return len(path.read_text().splitlines())


@pytest.fixture(scope="module")
def pooling():
    cq = class_questions(load_sheet("pooling"), [Student("001"), Student("002")])
    layout = Layout(
        {ex.id: [s.column for s in q.slots] for ex, q in zip(cq.exercises, cq.variants[0])},
        frozenset(q.code for v in cq.variants for q in v),
    )
    return cq, layout


def test_reports_read_back(tmp_path, pooling):
    cq, layout = pooling
    n = sum(len(q.slots) for q in cq.variants[0])
    first = report(
        tmp_path / "quiz1.csv",
        cq,
        0,
        [
            {"name": "Ann Lee", "id": 51, "sis_id": "s001", "attempt": 1, "answers": ["9"] * n},
            {
                "name": "Ann Lee",
                "id": 51,
                "sis_id": "s001",
                "attempt": 2,
                "answers": ["2,5"] + [""] * (n - 1),
            },
        ],
    )
    # without SIS ids or all versions, on a trusting account: other columns, same reading
    head = ["name", "id", "root_account", "section", "section_id", "submitted"]
    second = report(
        tmp_path / "quiz2.csv",
        cq,
        1,
        [
            {
                "name": "Bo",
                "id": 52,
                "submitted": "2026-12-02 09:00:00 UTC",
                "answers": ["-0.25"] * n,
            },
            {"name": "Bo", "id": 52, "submitted": "2026-12-01 09:00:00 UTC", "answers": ["7"] * n},
        ],
        head,
    )
    assert looks_like_canvas(next(csv.reader(first.open())))
    assert looks_like_canvas(next(csv.reader(second.open())))
    assert not looks_like_canvas(["id", "name", "q1 L", "q1 dL/dW1[1,1]"])
    responses = read_canvas_responses([first, second], layout, lenient=False)
    assert [(a.person, a.name, a.row, a.source) for a in responses.attempts] == [
        ("s001", "Ann Lee", last_line(first), str(first)),  # the latest attempt
        ("52", "Bo", last_line(second) - 1, str(second)),  # the newest, listed first
    ]
    ann, bo = responses.attempts
    for attempt, questions in ((ann, cq.variants[0]), (bo, cq.variants[1])):
        assert list(attempt.exercises) == [x.exercise for x in questions]
        for question in questions:
            code, given = attempt.exercises[question.exercise]
            assert code == question.code
            assert list(given) == layout.columns[question.exercise]
    first_column = layout.columns[cq.exercises[0].id][0]
    assert ann.exercises[cq.exercises[0].id][1][first_column] == Given("2,5", F(5, 2))
    assert set(ann.exercises[cq.exercises[1].id][1].values()) == {Given("", None)}
    assert set(bo.exercises[cq.exercises[1].id][1].values()) == {Given("-0.25", F(-1, 4))}
    assert responses.problems == []


def test_report_errors(tmp_path, pooling):
    cq, layout = pooling
    n = sum(len(q.slots) for q in cq.variants[0])
    path = report(
        tmp_path / "quiz.csv",
        cq,
        0,
        [{"name": "Ann", "id": 51, "answers": ["abc"] + [""] * (n - 1)}],
    )
    column = next(csv.reader(path.open()))[8]
    with pytest.raises(AnswersError) as caught:
        read_canvas_responses([path], layout, lenient=False)
    assert str(caught.value) == (
        f"{path}:{last_line(path)}: column {column!r}: 'abc' is not a number ({EXPECTED})"
    )
    responses = read_canvas_responses([path], layout, lenient=True)
    given = responses.attempts[0].exercises[cq.exercises[0].id][1][
        layout.columns[cq.exercises[0].id][0]
    ]
    assert given.value is None and given.text == "abc" and given.problem
    assert [str(p) for p in responses.problems] == [str(caught.value)]

    other = Layout(layout.columns, frozenset({"000000"}))
    with pytest.raises(AnswersError) as caught:
        read_canvas_responses([path], other, lenient=True)
    code = cq.variants[0][0].code
    assert (
        str(caught.value)
        == f"{path}:1: column {column!r}: unknown variant code {code} (not of this class)"
    )

    text = path.read_text().replace(f"Variant {code} of question", "Variante")
    path.write_text(text)
    column = next(csv.reader(path.open()))[8]
    with pytest.raises(AnswersError) as caught:
        read_canvas_responses([path], layout, lenient=True)
    assert str(caught.value) == (
        f"{path}:1: column {column!r}: the question names no exgen variant and answer "
        "(not from exgen's QTI package?)"
    )


def test_variants_sharing_a_code_are_refused(sheet9):
    cq, _ = sheet9
    twin = tuple(replace(x, student=Student("099")) for x in cq.variants[0])
    with pytest.raises(ExportError) as caught:
        qti_package(replace(cq, variants=(*cq.variants, twin)))
    code = cq.variants[0][0].code
    assert str(caught.value) == (
        f"sheet9: students 001 and 099 share the variant code {code}: build the class with "
        "another secret (--seed)"
    )

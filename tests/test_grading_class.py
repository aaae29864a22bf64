"""A class graded end to end: a 40-student class with planted mistakes of every kind
(exact, within tolerance, just outside, a forward slip carried consistently, the same
slip with an inconsistent rest, a slip that zeroes a layer, nothing answered), graded
through `exgen grade` exactly as planned; and the CLI's messages for bad input."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from fractions import Fraction as F
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_run import invoke

from exgen.asks.collect import collected
from exgen.build.variants import Student, make_variant
from exgen.define.load import load_sheet
from exgen.engine.rounding import parse_shown, round_half_up
from exgen.render.keyjson import key_document

SHEET = """\
title: ECF drill
rounding: {digits: 2, carry: true}
variants:
  seed: drill
  draw:
    x: {integers: [1, 3]}
    W1: {grid: [-1, 1, 0.25]}
  require: [no_relu_at_zero, no_dead_layer]
exercises:
  - id: q1
    title: Forward and backward
    points: 10
    network:
      equations:
        - u = W1 @ x
        - z = relu(u)
        - y = W2 @ z
        - L = 0.5 * sum((y - t)**2)
      loss: L
      params: [W1, W2]
    values:
      x: [1, 2]
      t: [1]
      W1: [[0.5, -0.5], [0.25, 0.5]]
      W2: [[1, -1]]
    ask: [forward, backward]
    collect: [z, y, L, grads]
"""
KINDS = ("exact", "within", "outside", "carried", "inconsistent", "trivial", "blank", "no row")
UPSTREAM = ("q1 z[1]", "q1 z[2]")


def R(v):
    return round_half_up(v, 2)


def by_hand(z: list[F], u: list[F], x: list[F], t: F, y: F | None = None) -> dict[str, F]:
    """The rest of the work from the student's own z (and y, when given), with every
    step rounded (as the sheet's rule says), computed here independently of the engine."""
    y = R(z[0] - z[1]) if y is None else y  # W2 = [1, -1]
    d = R(y - t)
    loss = R(F(1, 2) * R(R(d * d)))
    dz = [R(d), R(-d)]
    du = [dz[j] if u[j] > 0 else F(0) for j in range(2)]
    out = {"q1 y": y, "q1 L": loss}
    for j in range(2):
        out[f"q1 dL/dW2[1,{j + 1}]"] = R(d * z[j])
        for k in range(2):
            out[f"q1 dL/dW1[{j + 1},{k + 1}]"] = R(du[j] * x[k])
    return out


def text(v: F) -> str:
    return f"{float(v):.2f}".replace("-0.00", "0.00")


def written(v: F) -> str:
    """An exact decimal as a European spreadsheet writes it: −0,125."""
    digits = str(Decimal(v.numerator) / Decimal(v.denominator))
    return digits.replace("-", "\u2212").replace(".", ",")


def plan(sheet, student_id: str, kind: str):
    """(the student's cells, the expected verdict of each column)."""
    variant = make_variant(sheet, Student(student_id))
    trace = variant.traces[0]
    key = key_document(variant.sheet, variant.traces, steps=False)["exercises"]["q1"]
    shown = {
        c.column: c.shown
        for c in collected("q1", key, SimpleNamespace(collect=["z", "y", "L", "grads"], scale=None))
    }
    exact = {c: parse_shown(s)[0] for c, s in shown.items()}
    u = list(trace.values["u"].reshape(-1))
    x = list(trace.values["x"].reshape(-1))
    t = trace.values["t"].reshape(-1)[0]
    if kind in ("blank", "no row"):
        return dict.fromkeys(shown, ""), dict.fromkeys(shown, "missing")
    if kind == "exact":
        return dict(shown), dict.fromkeys(shown, "right")
    if kind == "within":
        return {c: written(v + F(4, 1000)) for c, v in exact.items()}, dict.fromkeys(shown, "right")
    if kind == "outside":  # the gradients half a unit away from zero: the next shown value
        grads = [c for c in shown if "/" in c]
        away = {c: v + F(5, 1000) if v >= 0 else v - F(5, 1000) for c, v in exact.items()}
        cells = {c: written(away[c]) if c in grads else shown[c] for c in shown}
        return cells, {c: "wrong" if c in grads else "right" for c in shown}
    z = [exact["q1 z[1]"], exact["q1 z[2]"]]
    z = [z[0] + 1, z[1]] if kind != "trivial" else [F(0), F(0)]
    mine = by_hand(z, u, x, t)
    cells = {"q1 z[1]": text(z[0]), "q1 z[2]": text(z[1])}
    verdicts = {c: "right" if z[k] == exact[c] else "wrong" for k, c in enumerate(UPSTREAM)}
    for column, value in mine.items():
        if kind == "inconsistent":  # y follows neither from the key nor from their z;
            # the rest is off the key, and right only where it follows from their y
            y = mine["q1 y"] + F("0.37")
            given = y if column == "q1 y" else exact[column] + F("0.37")
            cells[column] = text(given)
            theirs = by_hand(z, u, x, t, y)[column]
            carried = column != "q1 y" and given == theirs and given != exact[column]
            verdicts[column] = "carried" if carried else "wrong"
            continue
        cells[column] = text(value)
        verdicts[column] = (
            "right" if value == exact[column] else "carried" if kind == "carried" else "trivial"
        )
    return cells, verdicts


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("drill")
    (work / "drill.yaml").write_text(SHEET, encoding="utf-8")
    built = invoke(work, "build", "drill.yaml", "--variants", "40", "--no-pdf")
    assert built.exit_code == 0, built.output
    form = (work / "out/drill/answer-form.csv").read_text(encoding="utf-8")
    header, *rows = list(csv.reader(io.StringIO(form)))
    sheet = load_sheet(str(work / "drill.yaml"))
    expected, lines = {}, [header]
    for k, row in enumerate(rows):
        kind = KINDS[k % len(KINDS)]
        cells, verdicts = plan(sheet, row[0], kind)
        expected[row[0]] = (kind, verdicts)
        if kind != "no row":
            lines.append(row[:2] + [cells[c] for c in header[2:]])
    answers = work / "answers-in.csv"
    with answers.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(lines)
    result = invoke(work, "grade", "drill.yaml", "--answers", "answers-in.csv", "--no-pdf")
    return work, header, expected, result


def test_the_answer_form(graded):
    work, header, _, _ = graded
    assert header == [
        "id",
        "name",
        "q1 z[1]",
        "q1 z[2]",
        "q1 y",
        "q1 L",
        "q1 dL/dW1[1,1]",
        "q1 dL/dW1[1,2]",
        "q1 dL/dW1[2,1]",
        "q1 dL/dW1[2,2]",
        "q1 dL/dW2[1,1]",
        "q1 dL/dW2[1,2]",
    ]
    rows = list(csv.reader(io.StringIO((work / "out/drill/answer-form.csv").read_text())))
    assert rows[1] == ["001", ""] + [""] * 10 and len(rows) == 41


def test_forty_students_graded_as_planned(graded):
    work, _, expected, result = graded
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"graded 40 students into {Path('out/drill/grades')}/ (5 without a row: not answered)\n"
    )
    document = json.loads((work / "out/drill/grades/grades.json").read_text())
    seen = set()
    for student in document["students"]:
        kind, verdicts = expected[student["id"]]
        answers = student["exercises"][0]["answers"]
        got = {a["column"]: a["verdict"] for a in answers}
        assert got == verdicts, (student["id"], kind)
        seen.update((kind, v) for v in got.values())
        points = {"right": 1, "carried": 1}
        assert F(student["total"]) == sum(points.get(v, 0) for v in verdicts.values())
        for a in answers:
            if a["verdict"] in ("carried", "trivial"):
                # the nearest of the student's wrong values: their y for L, z for y
                nearest = {"q1 L": {"q1 y"}, "q1 y": set(UPSTREAM)}
                allowed = nearest.get(a["column"], {*UPSTREAM, "q1 y"})
                assert a["follows_from"] and set(a["follows_from"]) <= allowed
            if a["verdict"] == "trivial":
                assert "all zeros" in a["note"]
    # every kind of mistake was planted and came out as such
    assert {("carried", "carried"), ("trivial", "trivial"), ("inconsistent", "wrong")} <= seen
    assert all(v[1]["q1 y"] == "wrong" for v in expected.values() if v[0] == "inconsistent")
    assert {("within", "right"), ("outside", "wrong"), ("blank", "missing")} <= seen


def test_grades_csv(graded):
    work, _, expected, _ = graded
    rows = list(csv.DictReader(io.StringIO((work / "out/drill/grades/grades.csv").read_text())))
    assert [r["id"] for r in rows] == sorted(expected)
    assert list(rows[0]) == ["id", "name", "q1", "total"]
    assert rows[0]["total"] == "10" and rows[2]["total"] == "4"  # exact; grads just outside
    assert rows[6]["total"] == "0"  # nothing answered


def test_feedback_and_summary_beside_the_grades(graded):
    """One feedback page per student (no PDFs with --no-pdf) and the class summary, in
    the same folder as grades.csv, from the same grades."""
    work, _, expected, _ = graded
    folder = work / "out/drill/grades"
    assert sorted(p.name for p in (folder / "feedback").glob("*.html")) == [
        f"{i}.html" for i in sorted(expected)
    ]
    assert not list((folder / "feedback").glob("*.pdf"))
    assert f"{len(expected)} students" in (folder / "summary.html").read_text()


@pytest.mark.pdf
def test_feedback_pdfs(graded):
    work, _, expected, _ = graded
    result = invoke(work, "grade", "drill.yaml", "--answers", "answers-in.csv")
    assert result.exit_code == 0, result.output
    pdfs = sorted((work / "out/drill/grades/feedback").glob("*.pdf"))
    assert [p.stem for p in pdfs] == sorted(expected)
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)


def test_without_ecf_no_carried_credit(tmp_path):
    (tmp_path / "drill.yaml").write_text(
        SHEET.replace(
            "ask: [forward, backward]", "ask: [forward, backward]\n    grading: {ecf: false}"
        )
    )
    sheet = load_sheet(str(tmp_path / "drill.yaml"))
    from exgen.grading.answers_csv import Answers, Given
    from exgen.grading.grade import grade_class

    cells, verdicts = plan(sheet, "004", "carried")
    answers = Answers({"004": {c: Given(v, F(v)) for c, v in cells.items()}})
    [grade] = grade_class(sheet, [Student("004")], answers)
    got = {a.column: a.verdict for a in grade.exercises[0].answers}
    assert "carried" in verdicts.values()
    assert got == {c: "wrong" if v == "carried" else v for c, v in verdicts.items()}


def test_cli_errors(graded, tmp_path):
    work = graded[0]
    before = (work / "out/drill/grades/grades.csv").read_bytes()
    bad = work / "bad.csv"
    bad.write_text("id,name,q1 L\n", encoding="utf-8")
    result = invoke(work, "grade", "drill.yaml", "--answers", "bad.csv")
    assert result.exit_code == 2
    assert result.output == (
        "error: bad.csv:1: missing column 'q1 z[1]' and 8 more (keep every column of "
        "answer-form.csv; leave a cell empty for no answer)\n"
    )
    bad.write_text("id,name,q1 nope\n", encoding="utf-8")
    result = invoke(work, "grade", "drill.yaml", "--answers", "bad.csv")
    assert result.output == (
        "error: bad.csv:1: column 'q1 nope': not a collected answer "
        "(expected the columns of answer-form.csv)\n"
    )
    result = invoke(work, "grade", "drill.yaml", "--answers", "bad.csv", "--seed", "other")
    assert result.exit_code == 2
    assert result.output == (
        f"error: the class in {Path('out/drill/manifest.json')} was built with another "
        "secret: give its --seed\n"
    )
    (tmp_path / "drill.yaml").write_text(SHEET)
    result = invoke(tmp_path, "grade", "drill.yaml", "--answers", str(bad))
    assert result.output == (
        f"error: no class build at {Path('out/drill/manifest.json')}: give --variants N or "
        "--roster FILE (and --seed) as for the class build\n"
    )
    assert (work / "out/drill/grades/grades.csv").read_bytes() == before  # nothing half-written
    assert not (tmp_path / "out").exists()


def test_lenient_reports_unreadable_cells(graded, tmp_path):
    work = graded[0]
    form = (work / "out/drill/answer-form.csv").read_text()
    lines = form.splitlines()
    lines[1] = "001,," + "abc" + "," * 9
    (work / "lenient.csv").write_text("\n".join(lines) + "\n")
    strict = invoke(work, "grade", "drill.yaml", "--answers", "lenient.csv")
    assert strict.exit_code == 2
    assert strict.output == (
        "error: lenient.csv:2: column 'q1 z[1]': 'abc' is not a number (expected a number "
        "such as -0.25, −0,25 or 1 234.5, or an empty cell)\n"
    )
    result = invoke(work, "grade", "drill.yaml", "--answers", "lenient.csv", "--lenient")
    assert result.exit_code == 0, result.output
    assert "lenient.csv:2: column 'q1 z[1]': 'abc' is not a number" in result.output
    assert "; 1 cells unreadable" in result.output
    document = json.loads((work / "out/drill/grades/grades.json").read_text())
    first = document["students"][0]["exercises"][0]["answers"][0]
    assert (first["given"], first["verdict"]) == ("abc", "wrong")
    assert len(document["unreadable"]) == 1


def test_grades_json_reads_back_as_the_model(tmp_path):
    (tmp_path / "drill.yaml").write_text(SHEET)
    sheet = load_sheet(str(tmp_path / "drill.yaml"))
    from exgen.grading.answers_csv import Answers, Given
    from exgen.grading.grade import grade_class
    from exgen.grading.grades_csv import grades_from_json, grades_json

    cells, _ = plan(sheet, "004", "carried")
    answers = Answers({"004": {c: Given(v, F(v)) for c, v in cells.items()}})
    grades = grade_class(sheet, [Student("004"), Student("005", "Eve")], answers)
    document = json.loads(grades_json("drill", grades, []))
    assert grades_from_json(document) == grades
    assert any(a.verdict == "carried" for a in grades[0].exercises[0].answers)


# the drill's network, its ∂L/∂y collected beside the gradients
SIGNAL = (
    SHEET.replace("title: ECF drill", "title: Carried error signal")
    .replace("seed: drill", "seed: signal")
    .replace("    W1: {grid: [-1, 1, 0.25]}\n", "")
    .replace("require: [no_relu_at_zero, no_dead_layer]", "require: [no_relu_at_zero]")
    .replace("collect: [z, y, L, grads]", "collect: [grad.y, grads]")
)


def test_a_wrong_error_signal_is_carried_into_the_gradients_it_leads_to(tmp_path):
    """∂L/∂y handed in wrong, and ∂L/∂W2, ∂L/∂W1 worked on from it (by hand, rounding as
    the sheet says): the error signal is wrong, the gradients are carried; the same
    gradients from the key's ∂L/∂y would be wrong against the student's own signal."""
    (tmp_path / "signal.yaml").write_text(SIGNAL)
    assert invoke(tmp_path, "build", "signal.yaml", "--variants", "2", "--no-pdf").exit_code == 0
    key = json.loads((tmp_path / "out/signal/variants/001/key.json").read_text())["exercises"]["q1"]

    def val(name):
        return [F(v) for v in _flat(key["values"][name]["shown"])]

    x, u, z, w2 = val("x"), val("u"), val("z"), val("W2")
    signal = F(key["grads"]["y"]["shown"]) + 1  # the student's slip
    dw2 = [R(signal * z[j]) for j in range(2)]
    dz = [R(w2[j] * signal) for j in range(2)]
    du = [dz[j] if u[j] > 0 else F(0) for j in range(2)]
    dw1 = {(j, k): R(du[j] * x[k]) for j in range(2) for k in range(2)}
    form = list(csv.reader(io.StringIO((tmp_path / "out/signal/answer-form.csv").read_text())))
    cells = {"q1 dL/dy": text(signal)}
    cells |= {f"q1 dL/dW2[1,{j + 1}]": text(dw2[j]) for j in range(2)}
    cells |= {f"q1 dL/dW1[{j + 1},{k + 1}]": text(v) for (j, k), v in dw1.items()}
    assert set(cells) == set(form[0][2:])
    with (tmp_path / "in.csv").open("w", newline="") as f:
        csv.writer(f).writerows([form[0], ["001", ""] + [cells[c] for c in form[0][2:]]])
    result = invoke(tmp_path, "grade", "signal.yaml", "--answers", "in.csv", "--no-pdf")
    assert result.exit_code == 0, result.output
    grades = json.loads((tmp_path / "out/signal/grades/grades.json").read_text())
    answers = {a["column"]: a for a in grades["students"][0]["exercises"][0]["answers"]}
    assert answers["q1 dL/dy"]["verdict"] == "wrong"
    for column in cells:
        if column == "q1 dL/dy":
            continue
        changed = cells[column] != answers[column]["expected"]
        assert answers[column]["verdict"] == ("carried" if changed else "right"), column
        if changed:
            assert answers[column]["follows_from"] == ["q1 dL/dy"]


def _flat(shown):
    """A key.json `shown` (a string, a vector's list, a matrix's rows) as one list."""
    if isinstance(shown, str):
        return [shown]
    return [c for r in shown for c in (r if isinstance(r, list) else [r])]


def test_a_class_graded_on_every_core_as_in_one_process(graded, monkeypatch):
    """In chunks on worker processes, in roster order, the same grades as one by one."""
    from exgen.grading import grade
    from exgen.grading.answers_csv import read_answers

    work, header, expected, _ = graded
    sheet = load_sheet(str(work / "drill.yaml"))
    students = [Student(i) for i in sorted(expected)]
    answers = read_answers(work / "answers-in.csv", {s.id: "" for s in students}, header[2:], False)
    monkeypatch.setattr(grade, "CHUNK", 7)
    pooled = grade.grade_class(sheet, students, answers)
    monkeypatch.setattr(grade, "CHUNK", 1000)
    assert pooled == grade.grade_class(sheet, students, answers)
    assert [g.id for g in pooled] == sorted(expected)

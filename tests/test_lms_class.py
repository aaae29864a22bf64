"""A class through a learning platform, end to end: sheet9 with 30 variants exported to
Moodle XML and to a QTI package, every number in them against that variant's key.json;
then the platforms' reports — Moodle's Responses report in English and in French (decimal
commas, a random variant per exercise) and Canvas's Student Analysis, one CSV per quiz —
written here in their real formats from what was exported, and graded exactly as planned."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from fractions import Fraction as F
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_run import invoke
from test_lms_moodle import ENGLISH, FRENCH

from exgen.asks.collect import collected
from exgen.engine.rounding import parse_shown
from exgen.lms import cloze

ROOT = Path(__file__).parents[1]
N = 30
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
VARIANT = re.compile(r"Variant ([0-9A-F]{6}) of question (\w+)")
SLOT = re.compile(r"Answer (\d+) of (\d+)")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course folder with sheet9, its first question collecting the forward values too
    and crediting half for one off in the last digit; the class built and exported."""
    work = tmp_path_factory.mktemp("course")
    (work / "exercises").mkdir()
    text = (ROOT / "exercises/sheet9.yaml").read_text()
    first = text.index("    ask: [forward, backward]")
    text = (
        text[:first]
        + "    collect: [h1, y, L, grads]\n    grading: {last_digit: 0.5}\n"
        + text[first:]
    )
    (work / "exercises/sheet9.yaml").write_text(text)
    result = invoke(work, "build", "sheet9", "--variants", str(N), "--no-pdf")
    assert result.exit_code == 0, result.output
    for to, name in (("moodle", "moodle.xml"), ("qti", "qti.zip")):
        result = invoke(work, "export", "sheet9", "--to", to)
        assert result.exit_code == 0, result.output
        assert result.output == (
            f"exported {N} variants ({2 * N} questions) to {Path('out/sheet9') / name}\n"
        )
    return work


def keys(course: Path) -> dict[str, dict]:
    """Each variant's code -> its student id and the collected (column, shown) of each
    exercise, from the class build's own key.json files."""
    manifest = json.loads((course / "out/sheet9/manifest.json").read_text())
    out = {}
    for s in manifest["students"]:
        key = json.loads((course / f"out/sheet9/variants/{s['id']}/key.json").read_text())
        spec = {
            "q1": SimpleNamespace(collect=["h1", "y", "L", "grads"], scale=None),
            "q3": SimpleNamespace(collect=None, scale=None),
        }
        columns = {
            ex: [(c.column, c.shown) for c in collected(ex, key["exercises"][ex], spec[ex])]
            for ex in spec
        }
        out[s["code"]] = {"id": s["id"], "columns": columns}
    return out


def moodle_questions(course: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring((course / "out/sheet9/moodle.xml").read_bytes())
    return {
        tuple(q.findtext("name/text").split()): q
        for q in root.iter("question")
        if q.get("type") == "cloze"
    }


def test_every_moodle_number_is_the_key(course):
    by_code = keys(course)
    questions = moodle_questions(course)
    assert len(questions) == 2 * N
    for (exercise, code), question in questions.items():
        text = question.findtext("questiontext/text")
        assert VARIANT.search(text).groups() == (code, exercise)
        parts, _ = cloze.extract(text)
        expected = by_code[code]["columns"][exercise]
        assert len(parts) == len(expected)
        for part, (column, shown) in zip(parts, expected):
            value, half = parse_shown(shown)
            right, *rest = part.alternatives
            assert (right.fraction, right.centre, right.tolerance) == (1, value, half), column
            if exercise == "q1":  # last_digit: half the credit within one unit more
                assert [(a.fraction, a.centre, a.tolerance) for a in rest] == [
                    (F(1, 2), value, 3 * half)
                ]
            else:
                assert rest == []


def qti_items(course: Path) -> list[tuple[str, str, int, int, F, F, str]]:
    """(exercise, code, k, n, lo, hi, heading) of every item in the package; heading: its
    text as Canvas heads its report column (tags stripped)."""
    out = []
    with zipfile.ZipFile(course / "out/sheet9/qti.zip") as package:
        for name in sorted(package.namelist()):
            if not name.endswith(".xml") or "/" not in name or "meta" in name:
                continue
            for item in ET.fromstring(package.read(name)).iter(f"{QTI}item"):
                text = item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext")
                code, exercise = VARIANT.search(text).groups()
                k, n = map(int, SLOT.search(text).groups())
                lo = F(item.findtext(f".//{QTI}vargte"))
                hi = F(item.findtext(f".//{QTI}varlte"))
                heading = unescape(re.sub(r"<[^>]+>", "", text)).strip()
                out.append((exercise, code, k, n, lo, hi, heading))
    return out


def test_every_qti_number_is_the_key(course):
    by_code = keys(course)
    items = qti_items(course)
    assert len(items) == sum(len(c) for v in by_code.values() for c in v["columns"].values())
    for exercise, code, k, n, lo, hi, _ in items:
        expected = by_code[code]["columns"][exercise]
        assert n == len(expected)
        value, half = parse_shown(expected[k - 1][1])
        assert ((lo + hi) / 2, (hi - lo) / 2) == (value, half), (code, exercise, k)


# --- the plan: what each person answers, and the verdict each answer must get ----------


def planned(k: int, columns: list[tuple[str, str]]) -> tuple[list[str], dict[str, str]]:
    """Person k's answers to one question (as typed, '.' decimals) and the verdicts they
    must get: all right; one gradient wrong; the loss left empty; one gradient off by one
    in its last digit (close where the policy credits it, else wrong); more digits than
    the key shows, within its rounding (right)."""
    plan = k % 5
    answers, verdicts = [], {}
    for j, (column, shown) in enumerate(columns):
        value, half = parse_shown(shown)
        text, verdict = shown, "right"
        if plan == 1 and j == len(columns) - 1:
            text, verdict = f"{float(value + 1):.6f}", "wrong"
        if plan == 2 and column.endswith(" L"):
            text, verdict = "", "missing"
        if plan == 3 and j == len(columns) - 2:
            text = f"{float(value + 2 * half):.6f}"
            verdict = "close" if column.startswith("q1") else "wrong"
        if plan == 4:
            text = f"{float(value + half * F(4, 5)):.6f}"
        answers.append(text)
        verdicts[column] = verdict
    return answers, verdicts


def graded(course: Path, result) -> dict[str, dict[str, str]]:
    assert result.exit_code == 0, result.output
    document = json.loads((course / "out/sheet9/grades/grades.json").read_text())
    return {
        s["name"]: {a["column"]: a["verdict"] for e in s["exercises"] for a in e["answers"]}
        for s in document["students"]
    }


HEADS = {"en": ENGLISH, "fr": FRENCH}  # the person columns, as Moodle heads them
WORDS = {
    "en": ("Question", "Response", "Right answer", "part {k}: {t}", ","),
    "fr": ("Question", "Réponse", "Bonne réponse", "partie {k} : {t}", ";"),
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_moodle_responses_report_grades_as_planned(course, tmp_path, language):
    by_code = keys(course)
    codes = list(by_code)
    questions = moodle_questions(course)
    question, response, right, part, delimiter = WORDS[language]
    header = list(HEADS[language])
    for n in (1, 2):
        header += [f"{question} {n}", f"{response} {n}", f"{right} {n}"]
    rows, plans = [header], {}
    for k in range(N):
        # Moodle's random question from each exercise's category: a variant per exercise
        picks = {"q1": codes[k], "q3": codes[(k + 11) % N]}
        name = f"Student{k:02d} Test"
        row = [
            "Test",
            f"Student{k:02d}",
            f"s{k:02d}@uni.example",
            "Finished",
            "1 December 2026",
            "1 December 2026",
            "20 mins",
            "10.00",
        ]
        plans[f"Student{k:02d} Test"] = {}
        for exercise, code in picks.items():
            columns = by_code[code]["columns"][exercise]
            answers, verdicts = planned(k, columns)
            if language == "fr":
                answers = [a.replace(".", ",") for a in answers]
            plans[name].update(verdicts)
            text = questions[(exercise, code)].findtext("questiontext/text")
            summary = "; ".join(part.format(k=j, t=t) for j, t in enumerate(answers, 1))
            row += [re.sub(r"<[^>]+>", " ", unescape(text)), summary, ""]
        if k == 0:  # an earlier attempt, all wrong: the last one counts
            earlier = [
                c if j < len(HEADS[language]) or (j - 8) % 3 != 1 else "part 1: 9"
                for j, c in enumerate(row)
            ]
            rows.append(earlier)
        rows.append(row)
    rows.append(["Overall average"] + [""] * (len(header) - 1))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    (course / "responses.csv").write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode())
    result = invoke(course, "grade", "sheet9", "--answers", "responses.csv", "--no-pdf")
    assert result.output == (
        f"graded {N} students into {Path('out/sheet9/grades')}/ "
        "(1 earlier attempt not graded: each person's last counts)\n"
    )
    assert graded(course, result) == plans
    ids = [
        s["id"]
        for s in json.loads((course / "out/sheet9/grades/grades.json").read_text())["students"]
    ]
    assert ids[:2] == ["s00-uni.example", "s01-uni.example"]


def test_canvas_student_analysis_reports_grade_as_planned(course, tmp_path):
    by_code = keys(course)
    items = qti_items(course)
    reports, plans = [], {}
    for k, (code, variant) in enumerate(by_code.items()):
        header = [
            "name",
            "id",
            "sis_id",
            "section",
            "section_id",
            "section_sis_id",
            "submitted",
            "attempt",
        ]
        cells = [
            f"Student{k:02d} Test",
            str(4000 + k),
            variant["id"],
            "DL",
            "7",
            "",
            "2026-12-01 10:00:00 UTC",
            "1",
        ]
        plans[f"Student{k:02d} Test"] = {}
        for exercise in ("q1", "q3"):
            answers, verdicts = planned(k, variant["columns"][exercise])
            plans[f"Student{k:02d} Test"].update(verdicts)
            mine = sorted(i for i in items if i[:2] == (exercise, code))
            for (_, _, j, _, _, _, heading), answer in zip(mine, answers):
                header += [f"{900000 + 100 * k + j}: {heading}", "0.5"]
                cells += [answer.replace(".", ",") if k % 2 else answer, "0.5"]
        header += ["n correct", "n incorrect", "score"]
        out = io.StringIO()
        csv.writer(out).writerows([header, cells + ["0", "0", "0"]])
        path = course / f"quiz-{k:02d}.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        reports += ["--answers", path.name]
    result = invoke(course, "grade", "sheet9", *reports, "--no-pdf")
    assert result.output == f"graded {N} students into {Path('out/sheet9/grades')}/\n"
    # Canvas ranges credit the close answers fully or not at all; exgen's grading of
    # the report gives them the policy's half
    assert graded(course, result) == plans


def test_exporting_needs_a_class(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    result = invoke(tmp_path, "export", "sheet9", "--to", "moodle")
    assert result.exit_code == 2
    assert result.output == (
        f"error: no class build at {Path('out/sheet9/manifest.json')}: give --variants N "
        "or --roster FILE (and --seed) as for the class build\n"
    )
    assert not (tmp_path / "out").exists()


def test_exporting_without_a_build_makes_exgen_s_folder(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    result = invoke(tmp_path, "export", "sheet9", "--to", "moodle", "--variants", "2")
    assert result.output == (
        f"exported 2 variants (4 questions) to {Path('out/sheet9/moodle.xml')}\n"
    )
    assert sorted(p.name for p in (tmp_path / "out/sheet9").iterdir()) == [".exgen", "moodle.xml"]
    again = invoke(tmp_path, "export", "sheet9", "--to", "moodle", "--variants", "2")
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in (tmp_path / "out/sheet9").iterdir()) == [".exgen", "moodle.xml"]


def test_exporting_replaces_only_its_own_file(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    (tmp_path / "out/sheet9").mkdir(parents=True)
    (tmp_path / "out/sheet9/notes.txt").write_text("mine")
    result = invoke(tmp_path, "export", "sheet9", "--to", "qti", "--variants", "2")
    assert result.exit_code == 3
    assert result.output == (
        f"error: {Path('out/sheet9')}: exists and was not made by exgen; remove it or "
        "choose another --out\n"
    )
    assert sorted(p.name for p in (tmp_path / "out/sheet9").iterdir()) == ["notes.txt"]


def test_a_sheet_canvas_would_mangle_is_refused_with_the_fix(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    result = invoke(tmp_path, "export", "hw2-numpy-backprop", "--to", "qti", "--variants", "1")
    assert result.exit_code == 2
    assert result.output.startswith("error: hw2-numpy-backprop: exercise backprop, variant ")
    assert "Canvas keeps at most 4 decimals of a numeric answer" in result.output
    assert not (tmp_path / "out/hw2-numpy-backprop/qti.zip").exists()


def test_an_unknown_report_is_refused(course):
    (course / "other.csv").write_text("student,answer\n1,2\n")
    result = invoke(course, "grade", "sheet9", "--answers", "other.csv", "--no-pdf")
    assert result.exit_code == 2
    assert result.output == (
        "error: other.csv:1: not a file exgen can grade: expected answer-form.csv's columns "
        "(id, name, …), Moodle's quiz Responses report or Canvas's Student Analysis, as CSV\n"
    )


def test_the_build_s_keys_give_the_same_file_as_drawing_afresh(course):
    """The export reads the class build's worked steps instead of typesetting them again;
    drawn afresh (another out folder, no build there) the files are byte for byte the same."""
    for to, name in (("moodle", "moodle.xml"), ("qti", "qti.zip")):
        result = invoke(
            course, "export", "sheet9", "--to", to, "--variants", str(N), "--out", "fresh"
        )
        assert result.exit_code == 0, result.output
        assert (course / "fresh/sheet9" / name).read_bytes() == (
            course / "out/sheet9" / name
        ).read_bytes()


def test_keys_of_another_version_of_the_definition_are_not_reused(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    assert invoke(tmp_path, "build", "sheet9", "--variants", "2", "--no-pdf").exit_code == 0
    key = tmp_path / "out/sheet9/variants/001/key.json"
    document = json.loads(key.read_text())
    step = document["exercises"]["q1"]["steps"][0]
    step["latex"] = r"\text{TAMPERED}"
    key.write_text(json.dumps(document))
    assert invoke(tmp_path, "export", "sheet9", "--to", "moodle").exit_code == 0
    assert "TAMPERED" in (tmp_path / "out/sheet9/moodle.xml").read_text()  # the build's
    definition = tmp_path / "exercises/sheet9.yaml"
    definition.write_text(definition.read_text() + "# edited after the build\n")
    assert invoke(tmp_path, "export", "sheet9", "--to", "moodle").exit_code == 0
    assert "TAMPERED" not in (tmp_path / "out/sheet9/moodle.xml").read_text()

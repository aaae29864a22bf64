"""Per-student variants: distinct, reproducible, right, safe with any name."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from cli_run import invoke
from click.testing import CliRunner
from pypdf import PdfReader

from exgen.build.variants import student_seed
from exgen.cli import main
from exgen.engine.rounding import shown

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def class30(tmp_path_factory):
    work = tmp_path_factory.mktemp("class")
    shutil.copytree(ROOT / "exercises", work / "exercises")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(main, ["build", "sheet9", "--variants", "30", "--no-pdf"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return work


def keys(work: Path, sub="out/sheet9/variants") -> dict[str, dict]:
    folder = work / sub
    return {
        s: json.loads((folder / s / "key.json").read_text()) for s in sorted(os.listdir(folder))
    }


def test_student_seeds_are_stable():
    # SHA-256 of the sheet's secret and the id: the same on every machine and release
    assert (
        student_seed("s", "001")
        == "78ded535760e4c5a0b9d7e12309d14afc2befcc427ca551faeb0c4918251c9ba"
    )
    assert len({student_seed("s", "001"), student_seed("s", "002"), student_seed("t", "001")}) == 3


def test_thirty_variants_are_pairwise_distinct(class30):
    q3 = [
        json.dumps({n: k["exercises"]["q3"]["values"][n]["value"] for n in ("x", "W1", "W2", "W3")})
        for k in keys(class30).values()
    ]
    assert len(q3) == 30 and len(set(q3)) == 30


def test_rebuild_is_byte_identical(class30, tmp_path):
    shutil.copytree(class30 / "exercises", tmp_path / "exercises")
    assert (
        invoke(tmp_path, "build", "sheet9", "--variants", "30", "--no-pdf", "--jobs", "1").exit_code
        == 0
    )
    for student in ("001", "017", "030"):
        for name in ("sheet.html", "key.html", "key.json"):
            a = (class30 / "out/sheet9/variants" / student / name).read_bytes()
            b = (tmp_path / "out/sheet9/variants" / student / name).read_bytes()
            assert a == b, (student, name)
    for name in ("answers.csv", "manifest.json"):
        assert (class30 / "out/sheet9" / name).read_bytes() == (
            tmp_path / "out/sheet9" / name
        ).read_bytes()


def test_one_student_alone_gets_the_same_numbers(class30, tmp_path):
    shutil.copytree(class30 / "exercises", tmp_path / "exercises")
    result = invoke(tmp_path, "build", "sheet9", "--variants", "30", "--student", "017", "--no-pdf")
    assert result.exit_code == 0, result.output
    for name in ("sheet.html", "key.html", "key.json"):
        assert (tmp_path / "out/sheet9/variants/017" / name).read_bytes() == (
            class30 / "out/sheet9/variants/017" / name
        ).read_bytes()


def r(x: Fraction) -> Fraction:
    """Half-up to 2 decimals, by hand."""
    q = (abs(x) * 100 * 2 + 1) // 2
    return Fraction(int(q) if x >= 0 else -int(q), 100)


def carried_q3(x, yhat, W1, W2, W3):
    """Question 3 worked the way a student does: each result rounded to 2 decimals."""
    F = lambda a: [[Fraction(str(v)) for v in row] for row in a]  # noqa: E731
    x, yhat = [Fraction(str(v)) for v in x], [Fraction(str(v)) for v in yhat]
    W1, W2, W3 = F(W1), F(W2), F(W3)
    mv = lambda W, v: [r(sum(w * a for w, a in zip(row, v))) for row in W]  # noqa: E731
    u1 = mv(W1, x)
    z1 = [max(v, 0) for v in u1]
    u2 = mv(W2, x)
    z2 = [max(v, 0) for v in u2]
    u3 = mv(W3, z1)
    y = [r(a + b) for a, b in zip(u3, z2)]
    d = [r(a - b) for a, b in zip(y, yhat)]
    L = r(Fraction(1, 2) * r(sum(r(v * v) for v in d)))
    dz1 = [r(sum(W3[i][j] * d[i] for i in range(len(d)))) for j in range(len(z1))]
    du1 = [g if u > 0 else Fraction(0) for g, u in zip(dz1, u1)]
    du2 = [g if u > 0 else Fraction(0) for g, u in zip(d, u2)]
    outer = lambda a, b: [[r(p * q) for q in b] for p in a]  # noqa: E731
    return {
        "u1": u1,
        "u2": u2,
        "u3": u3,
        "y": y,
        "L": L,
        "dW3": outer(d, z1),
        "dW2": outer(du2, x),
        "dW1": outer(du1, x),
    }


def strings(v):
    if isinstance(v, list):
        return [strings(i) for i in v]
    return shown(v, 2)


def test_every_variant_key_is_right(class30):
    manifest = json.loads((class30 / "out/sheet9/manifest.json").read_text())
    drawn = {s["id"]: s["drawn"]["q3"] for s in manifest["students"]}
    for student, key in keys(class30).items():
        q3 = key["exercises"]["q3"]
        given = {n: q3["values"][n]["shown"] for n in ("x", "yhat", "W1", "W2", "W3")}
        assert given == drawn[student]
        hand = carried_q3(*(given[n] for n in ("x", "yhat", "W1", "W2", "W3")))
        for name in ("u1", "u2", "u3", "y", "L"):
            assert q3["values"][name]["shown"] == strings(hand[name]), (student, name)
        for name in ("W1", "W2", "W3"):
            assert q3["grads"][name]["shown"] == strings(hand["d" + name]), (student, name)


def test_answers_table_matches_the_keys(class30):
    rows = list(csv.DictReader(io.StringIO((class30 / "out/sheet9/answers.csv").read_text())))
    assert [r["id"] for r in rows] == [f"{i:03d}" for i in range(1, 31)]
    key = keys(class30)["005"]["exercises"]["q3"]
    row = rows[4]
    assert row["q3 L"] == key["values"]["L"]["shown"]
    assert row["q3 dL/dW2[2,3]"] == key["grads"]["W2"]["shown"][1][2]
    assert not any(c.startswith("q2 ") for c in row)  # the graph question has no numbers


def test_manifest(class30):
    m = json.loads((class30 / "out/sheet9/manifest.json").read_text())
    assert m["sheet"] == "sheet9" and m["exgen"] and "seed" not in m
    assert m["secret_fingerprint"] == hashlib.sha256(b"kogsys-dnn-assignment9").hexdigest()[:16]
    assert "kogsys-dnn-assignment9" not in (class30 / "out/sheet9/manifest.json").read_text()
    first = m["students"][0]
    assert first["id"] == "001" and first["seed"] == student_seed("kogsys-dnn-assignment9", "001")
    assert set(first["drawn"]) == {"q1", "q3"} and set(first["drawn"]["q3"]) == {
        "x",
        "yhat",
        "W1",
        "W2",
        "W3",
    }


def test_the_manifest_names_the_definition_it_was_built_from(class30):
    m = json.loads((class30 / "out/sheet9/manifest.json").read_text())
    definition = (class30 / "exercises/sheet9.yaml").read_bytes()
    assert m["definition"] == hashlib.sha256(definition).hexdigest()[:16]


def test_a_class_build_shows_its_progress_from_the_start(tmp_path):
    from exgen.build.classset import build_class
    from exgen.build.roster import numbered

    steps: list[str] = []
    build_class(
        str(ROOT / "exercises/sheet9.yaml"), tmp_path, numbered(4), pdf=False, progress=steps.append
    )
    assert steps[:2] == [
        "preparing templates, figures and fonts for 4 students",
        "student 0 of 4",
    ]
    counted = [s for s in steps if s.startswith("student ")]
    assert [s.split(",")[0] for s in counted] == [f"student {i} of 4" for i in range(5)]
    assert counted[3].startswith("student 3 of 4, about ") and counted[3].endswith(" s left")
    assert steps[-1] == "writing the booklet and the tables"


ROSTER = "id,name\nde1,Jürgen Groß\nth1,สมชาย ใจดี\nzh1,王小明\nbad1,<script>alert('x')</script>\n"
NAMES = {"de1": "Jürgen Groß", "th1": "สมชาย ใจดี", "zh1": "王小明"}


def test_roster_names_in_any_script_and_hostile_ones(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    (tmp_path / "class.csv").write_text(ROSTER, encoding="utf-8")
    result = invoke(tmp_path, "build", "sheet9", "--roster", "class.csv", "--no-pdf")
    assert result.exit_code == 0, result.output
    for student, name in NAMES.items():
        sheet = (tmp_path / "out/sheet9/variants" / student / "sheet.html").read_text()
        assert name in sheet
        assert all(other not in sheet for other in NAMES.values() if other != name)
    hostile = (tmp_path / "out/sheet9/variants/bad1/sheet.html").read_text()
    assert "<script>" not in hostile and "&lt;script&gt;alert(" in hostile


# The PDF side of a roster on a one-exercise sheet: WeasyPrint's time goes per document.
TINY = """title: Roster check
course: Test course
variants:
  seed: roster-test
  draw:
    e.w: {grid: [-1, 1, 0.25]}
exercises:
  - id: e
    title: One weight
    prompt: Compute $\\partial L / \\partial w$.
    network:
      equations: ["h = w * x", "L = 0.5 * (h - t) ** 2"]
      loss: L
      params: [w]
    values: {w: 0.5, x: 2, t: 1}
    ask: [backward]
    space: 10
"""


@pytest.mark.pdf
def test_roster_names_in_the_pdfs_and_the_booklet(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "tiny.yaml").write_text(TINY)
    (tmp_path / "class.csv").write_text("id,name\nth1,สมชาย ใจดี\nzh1,王小明\n", encoding="utf-8")
    result = invoke(tmp_path, "build", "tiny", "--roster", "class.csv")
    assert result.exit_code == 0, result.output
    for student in ("th1", "zh1"):
        folder = tmp_path / "out/tiny/variants" / student
        text = "".join(p.extract_text() for p in PdfReader(str(folder / "sheet.pdf")).pages)
        # pypdf puts NULs between the Thai glyphs it maps (poppler does not); drop them
        assert NAMES[student].replace(" ", "") in text.replace(" ", "").replace("\x00", ""), student
    booklet = PdfReader(str(tmp_path / "out/tiny/keys.pdf"))
    pages = sum(
        len(PdfReader(str(tmp_path / "out/tiny/variants" / s / "key.pdf")).pages)
        for s in ("th1", "zh1")
    )
    assert len(booklet.pages) == pages
    assert "สมชาย" in booklet.pages[0].extract_text().replace("\x00", "")
    # months later: one student alone, byte for byte the same PDFs
    before = {
        f: (tmp_path / "out/tiny/variants/zh1" / f).read_bytes() for f in ("sheet.pdf", "key.pdf")
    }
    assert (
        invoke(tmp_path, "build", "tiny", "--roster", "class.csv", "--student", "zh1").exit_code
        == 0
    )
    for f, data in before.items():
        assert (tmp_path / "out/tiny/variants/zh1" / f).read_bytes() == data, f
    assert (tmp_path / "out/tiny/keys.pdf").exists()  # the class output stays


@pytest.mark.parametrize(
    "text, message",
    [
        ("name\nAda\n", "class.csv:1: expected an 'id' column, found columns: name"),
        ("id\n001\n001\n", "class.csv:3: student id '001' appears twice (also line 2)"),
        (
            "id\n../x\n",
            "class.csv:2: student id '../x' must be 1–64 letters, digits, '.', '_' or '-'",
        ),
    ],
)
def test_roster_errors(tmp_path, text, message):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    (tmp_path / "class.csv").write_text(text)
    result = invoke(tmp_path, "build", "sheet9", "--roster", "class.csv", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}")


def test_rules_that_cannot_be_met(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    path = tmp_path / "exercises" / "sheet9.yaml"
    text = path.read_text().replace("q3.W1: {grid: [-1, 1, 0.05]}", "q3.W1: {grid: [0, 0, 0.05]}")
    path.write_text(text.replace("  require:", "  tries: 50\n  require:"))
    result = invoke(tmp_path, "build", "sheet9", "--variants", "2", "--no-pdf")
    assert result.exit_code == 2
    assert (
        "cannot meet 'no_relu_at_zero' for exercise q3 (student 001): it failed all 50 draws"
        in result.stderr
    )
    assert "variants.require" in result.stderr
    assert not (tmp_path / "out" / "sheet9").exists()


def test_stress_check(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    result = invoke(tmp_path, "check", "sheet9", "--variants", "40", "--no-torch")
    assert result.exit_code == 0, result.output
    assert "40 variants drawn and solved, 40 distinct" in result.output
    assert "q3: L from " in result.output and "redraws: " in result.output


def test_a_draw_that_cannot_be_computed_is_drawn_again(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "d.yaml").write_text("""title: t
variants:
  seed: s
  draw:
    c: {integers: [0, 1]}
exercises:
  - id: e
    title: e
    network:
      equations: ["h = w / c", "L = 0.5 * (h - t) ** 2"]
      loss: L
      params: [w]
    values: {w: 1, c: 1, t: 0}
    ask: [backward]
""")
    result = invoke(tmp_path, "build", "d", "--variants", "20", "--no-pdf")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out/d/manifest.json").read_text())
    assert all(s["drawn"]["e"]["c"] == "1" for s in manifest["students"])
    assert sum(s["redraws"].get("computable", 0) for s in manifest["students"]) > 0
    path = tmp_path / "exercises" / "d.yaml"
    path.write_text(path.read_text().replace("integers: [0, 1]", "integers: [0, 0]"))
    result = invoke(tmp_path, "build", "d", "--variants", "2", "--no-pdf")
    assert result.exit_code == 2
    assert "cannot meet 'computable' for exercise e (student 001)" in result.stderr


def test_stress_check_of_a_sheet_without_variants_is_a_message(tmp_path):
    """exgen check --variants of a sheet with no variants block: the build's message and
    exit status 2, never a traceback."""
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    result = invoke(tmp_path, "check", "hw4-residual-softmax", "--variants", "3", "--no-torch")
    assert result.exit_code == 2, result.output
    assert (
        "exercises/hw4-residual-softmax.yaml: variants: no variants block: add one (seed, "
        "draw, require) to build per-student variants" in result.stderr
    )
    assert "Traceback" not in result.output

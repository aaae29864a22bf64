"""decimal: ",": a German-style copy of sheet9 prints every number with a decimal comma —
in the HTML, key.json's shown strings and steps, answers.csv — and still passes
`exgen check` and grades from an answer form written with commas."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from fractions import Fraction as F
from pathlib import Path

import pytest
from cli_run import invoke
from lxml import html as lxml_html

from exgen.engine.rounding import (
    decimal_mark,
    latex_number,
    list_separator,
    marked,
    parse_shown,
)
from exgen.typeset.formula import Num, Op, row
from exgen.typeset.latex import latex
from exgen.typeset.mathhtml import to_html

ROOT = Path(__file__).parents[1]
DOTTED = re.compile(r"\d\.\d")


def german(work: Path) -> Path:
    text = (ROOT / "exercises" / "sheet9.yaml").read_text()
    text = text.replace("rounding: {digits: 2", 'decimal: ","\nrounding: {digits: 2', 1)
    (work / "exercises").mkdir(exist_ok=True)
    (work / "exercises" / "sheet9.yaml").write_text(text)
    return work


def visible_text(path: Path) -> str:
    doc = lxml_html.fromstring(path.read_text())
    for hidden in doc.xpath("//style|//script|//*[local-name()='svg']"):
        hidden.getparent().remove(hidden)
    return doc.text_content()


def strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, list):
        for v in x:
            yield from strings(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from strings(v)


def numbers(x):
    if isinstance(x, list):
        for v in x:
            yield from numbers(v)
    else:
        yield x


def test_the_mark_at_the_edge():
    assert marked("2.55") == "2.55" and latex_number("2.55") == "2.55"
    with decimal_mark(","):
        assert marked("2.55") == "2,55" and marked("-1.23×10⁴") == "-1,23×10⁴"
        assert marked("3") == "3" and marked("10.07.2018") == "10.07.2018"
        assert marked("u1") == "u1" and marked("e.g. 0.5") == "e.g. 0.5"
        assert latex_number("2.55") == "2{,}55"
        assert latex_number("1.23×10⁴") == r"1{,}23 \times 10^{4}"
        assert list_separator() == ";"
        pair = row(Num("0.5"), Op(","), Num("1.5"))
        assert latex(pair) == "0{,}5 ; 1{,}5"
        assert to_html(pair) == "0,5;\u00a01,5"
    assert latex(row(Num("0.5"), Op(","), Num("1.5"))) == "0.5 , 1.5"
    assert parse_shown("2,55") == parse_shown("2.55") == (F(255, 100), F(1, 200))
    assert parse_shown("-1,23×10⁴") == (F(-12300), F(50))


def test_the_mark_is_a_point_or_a_comma(tmp_path):
    text = (ROOT / "exercises" / "sheet9.yaml").read_text()
    (tmp_path / "s.yaml").write_text('decimal: ";"\n' + text)
    result = invoke(tmp_path, "build", "s.yaml", "--no-pdf")
    assert result.exit_code != 0 and "decimal" in result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = german(tmp_path_factory.mktemp("german"))
    result = invoke(work, "build", "sheet9", "--no-pdf")
    assert result.exit_code == 0, result.output
    return work


def test_every_printed_number_has_a_comma(built):
    for kind in ("sheet", "key"):
        text = visible_text(built / "out" / "sheet9" / f"{kind}.html")
        assert DOTTED.findall(text.replace("10.07.2018", "")) == [], kind  # the due date as given
        assert len(re.findall(r"\d,\d", text)) > (50 if kind == "sheet" else 500)
    key_html = (built / "out" / "sheet9" / "key.html").read_text()
    assert "ties away from zero: 8,825 → 8,83" in key_html
    figures = [
        base64.b64decode(m.group(1)).decode()
        for m in re.finditer(r"data:image/svg\+xml;base64,([^\"]+)", key_html)
    ]
    labels = [re.sub(r"<[^>]+>", " ", svg) for svg in figures]
    assert any("× 0,5" in text for text in labels)  # the graph's constant factor
    assert not any(
        DOTTED.search(text.replace("0.3em", "").replace("0.12em", "")) for text in labels
    )
    assert "<mn>8,83</mn>" in key_html  # the MathML screen readers read, too


def test_key_json_numbers_stay_numbers_shown_strings_get_commas(built):
    key = json.loads((built / "out" / "sheet9" / "key.json").read_text())
    q3 = key["exercises"]["q3"]
    assert q3["values"]["y"] == {"value": [8.83, 5.93], "shown": ["8,83", "5,93"]}
    assert q3["values"]["W3"]["shown"] == [["1", "0,5", "0,25"], ["0,2", "0,3", "0,4"]]
    assert q3["grads"]["W3"]["shown"][0] == ["19,97", "30,54", "19,58"]
    for ex in key["exercises"].values():
        for table in ("values", "grads"):
            for entry in ex[table].values():
                assert all(isinstance(v, (int, float)) for v in numbers(entry["value"]))
    assert [s for s in strings(key["exercises"]) if DOTTED.search(s)] == []
    steps = q3["steps"]
    assert any("{,}" in s["latex"] for s in steps)
    assert any("," in json.dumps(s["result"]) for s in steps)


def test_a_german_key_passes_exgen_check(built):
    result = invoke(built, "check", "sheet9")
    assert result.exit_code == 0, result.output
    assert "printed steps ok" in result.output


def test_class_files_and_grading_with_commas(tmp_path):
    work = german(tmp_path)
    result = invoke(work, "build", "sheet9", "--no-pdf", "--variants", "3")
    assert result.exit_code == 0, result.output
    out = work / "out" / "sheet9"
    rows = list(csv.reader(io.StringIO((out / "answers.csv").read_text())))
    cells = [c for r in rows[1:] for c in r[2:] if c]
    # a number with a decimal comma is a number to a spreadsheet, not a formula: no guard
    assert cells and all(re.fullmatch(r"-?\d+,\d\d", c) for c in cells), cells[:5]
    assert any(c.startswith("-") for c in cells)
    assert '"0,00"' in (out / "answers.csv").read_text()  # a cell with a comma is quoted
    form = list(csv.reader(io.StringIO((out / "answer-form.csv").read_text())))
    assert form[0] == rows[0] or set(rows[0]) <= set(form[0])
    # the students hand in the key's own numbers, written with commas (and a − sign)
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    lines = [form[0]]
    for r in form[1:]:
        mine = by_id[r[0]]
        lines.append(r[:2] + [mine.get(c, "").replace("-", "−") for c in form[0][2:]])
    with (work / "in.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(lines)
    graded = invoke(work, "grade", "sheet9", "--answers", "in.csv", "--no-pdf")
    assert graded.exit_code == 0, graded.output
    document = json.loads((out / "grades" / "grades.json").read_text())
    for student in document["students"]:
        verdicts = {
            a["column"]: a["verdict"]
            for ex in student["exercises"]
            for a in ex["answers"]
            if a["column"] in rows[0]
        }
        assert verdicts and set(verdicts.values()) == {"right"}, verdicts


def test_export_writes_the_texts_with_commas(tmp_path):
    work = german(tmp_path)
    result = invoke(work, "export", "sheet9", "--to", "moodle", "--variants", "1")
    assert result.exit_code == 0, result.output
    xml = (work / "out" / "sheet9" / "moodle.xml").read_text()
    assert re.search(r"\d\{,\}\d", xml)  # the given values, in the question's LaTeX
    assert re.search(r":NUMERICAL:=-?\d+\.\d+:", xml)  # the platform's own number format

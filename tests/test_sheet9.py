"""Seed 002, question 3, worked by hand (see the values below) in both rounding modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from exgen.cli import main

ROOT = Path(__file__).parents[1]

# Worked by hand. u1 = W1 x = [0.4+1+0.75+0.4, 0.2+0.5+1.2+2, 0.1+1.5+0.9+0],
# u2 = W2 x = [0.1+0.5+1.5+1.6, 0+0.6+2.25+0.4], u3 = W3 z1 = [2.55+1.95+0.625, 0.51+1.17+1],
# y = u3 + z2 = [8.825, 5.93]; dL/dy = y - yhat = [7.825, 5.93];
# dL/dW3 = dy z1^T; dL/dz1 = W3^T dy = [7.825+0.2*5.93, 0.5*7.825+0.3*5.93, 0.25*7.825+0.4*5.93].
FULL = {
    "u1": ["2.55", "3.90", "2.50"],
    "u2": ["3.70", "3.25"],
    "u3": ["5.13", "2.68"],
    "y": ["8.83", "5.93"],
    "L": "48.20",
    "grad y": ["7.83", "5.93"],
    "grad z1": ["9.01", "5.69", "4.33"],
    "grad W3": [["19.95", "30.52", "19.56"], ["15.12", "23.13", "14.83"]],
    "grad W2": [["7.83", "15.65", "23.48", "31.30"], ["5.93", "11.86", "17.79", "23.72"]],
    "grad W1": [
        ["9.01", "18.02", "27.03", "36.04"],
        ["5.69", "11.38", "17.07", "22.77"],
        ["4.33", "8.66", "12.98", "17.31"],
    ],
}
# Carried: y = [8.83, 5.93] (8.825 rounds up), so dy = [7.83, 5.93];
# L = 0.5 (61.31 + 35.16) = 48.235 -> 48.24; dW3[0] = 7.83 * [2.55, 3.9, 2.5].
CARRIED = {
    "u3": ["5.13", "2.68"],
    "y": ["8.83", "5.93"],
    "L": "48.24",
    "grad y": ["7.83", "5.93"],
    "grad z1": ["9.02", "5.69", "4.33"],
    "grad W3": [["19.97", "30.54", "19.58"], ["15.12", "23.13", "14.83"]],
    "grad W1": [
        ["9.02", "18.04", "27.06", "36.08"],
        ["5.69", "11.38", "17.07", "22.76"],
        ["4.33", "8.66", "12.99", "17.32"],
    ],
}


def build(tmp_path, monkeypatch, carry: bool):
    text = (Path(__file__).parent / "fixtures" / "q3.yaml").read_text()
    if not carry:
        text = text.replace("carry: true", "carry: false")
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "sheet9.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "sheet9", "--no-pdf"])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "out" / "sheet9" / "key.json").read_text())


@pytest.mark.parametrize("carry, expected", [(False, FULL), (True, CARRIED)])
def test_question3(tmp_path, monkeypatch, carry, expected):
    key = build(tmp_path, monkeypatch, carry)
    q3 = key["exercises"]["q3"]
    assert q3["arithmetic"] == "exact"
    for name, shown in expected.items():
        if name.startswith("grad "):
            assert q3["grads"][name[5:]]["shown"] == shown, name
        else:
            assert q3["values"][name]["shown"] == shown, name


def test_key_json_layout(tmp_path, monkeypatch):
    key = build(tmp_path, monkeypatch, carry=True)
    assert list(key) == ["sheet", "student", "seed", "rounding", "exercises"]
    assert key["sheet"] == "sheet9" and key["student"] is None and key["seed"] is None
    assert key["rounding"] == {"digits": 2, "carry": True, "mode": "half-up"}
    q3 = key["exercises"]["q3"]
    # every node of the graph, given values included, shaped like the node
    assert set(q3["values"]) >= {
        "x",
        "yhat",
        "W1",
        "W2",
        "W3",
        "u1",
        "z1",
        "u2",
        "z2",
        "u3",
        "y",
        "L",
    }
    assert q3["values"]["x"] == {"value": [1, 2, 3, 4], "shown": ["1", "2", "3", "4"]}
    assert q3["values"]["W3"]["shown"] == [["1", "0.5", "0.25"], ["0.2", "0.3", "0.4"]]
    assert q3["values"]["L"]["value"] == 48.24
    assert q3["values"]["y"]["value"] == [8.83, 5.93]
    assert q3["grads"]["L"] == {"value": 1, "shown": "1.00"}
    assert q3["values"]["(y - yhat) ** 2"]["shown"] == ["61.31", "35.16"]


def test_shipped_sheet9_works_question3(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "sheet9.yaml").write_text(
        (ROOT / "exercises" / "sheet9.yaml").read_text()
    )
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["build", "sheet9", "--no-pdf"]).exit_code == 0
    q3 = json.loads((tmp_path / "out" / "sheet9" / "key.json").read_text())["exercises"]["q3"]
    for name, shown in CARRIED.items():
        entry = q3["grads"][name[5:]] if name.startswith("grad ") else q3["values"][name]
        assert entry["shown"] == shown, name

"""`collect:` and `grading:` in the definition: validated, and located in the file."""

from __future__ import annotations

import pytest

from exgen.define.load import load_sheet
from exgen.errors import DefinitionError

SHEET = """\
title: Collect
exercises:
  - id: q1
    title: One layer
    network:
      equations:
        - u = W @ x
        - z = relu(u)
        - L = 0.5 * sum(z**2)
      loss: L
      params: [W]
    values: {x: [1, 2], W: [[0.5, -0.5]]}
    ask: [forward, backward]
    collect: COLLECT
"""


def load(tmp_path, collect: str, extra: str = ""):
    path = tmp_path / "c.yaml"
    path.write_text(SHEET.replace("COLLECT", collect) + extra, encoding="utf-8")
    return load_sheet(str(path))


def test_collect_is_kept(tmp_path):
    sheet = load(tmp_path, "[u, grad.u, grads, L]")
    assert sheet.exercises[0].spec.collect == ["u", "grad.u", "grads", "L"]


@pytest.mark.parametrize(
    ("collect", "message"),
    [
        (
            "[v]",
            "exercises[0].collect[0]: 'v' is not a computed value of the network (expected one "
            "of: L, u, z, grads or grad.NAME)",
        ),
        (
            "[x]",
            "exercises[0].collect[0]: 'x' is not a computed value of the network (expected one "
            "of: L, u, z, grads or grad.NAME)",
        ),
        ("[u, u]", "exercises[0].collect[1]: 'u' is collected twice"),
        (
            "[grad.v]",
            "exercises[0].collect[0]: 'v' is not a node of the network (expected one of: L, u, "
            "z, grads or grad.NAME)",
        ),
    ],
)
def test_bad_collect_is_located(tmp_path, collect, message):
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, collect)
    assert str(caught.value) == f"{tmp_path / 'c.yaml'}:14: {message}"


def test_two_tolerances_are_refused(tmp_path):
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, "[u]", "grading: {digits: 2, relative: 0.1}\n")
    assert "grading" in str(caught.value)
    assert "give one tolerance, not digits and relative" in str(caught.value)

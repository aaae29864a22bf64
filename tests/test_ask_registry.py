"""Every ask is one module registered in one place, and complete: options, checks,
computation, view, key.json entry, answers.csv columns and two templates — each given
or explicitly declared absent (None), never a silent default."""

from __future__ import annotations

import ast
import dataclasses
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import BaseModel

from exgen.asks import registry
from exgen.asks.base import Ask
from exgen.render.documents import DEFAULT_TEMPLATES

ROOT = Path(__file__).parents[1]
ASKS = list(registry.ASKS.values())


def test_no_part_of_an_ask_has_a_default():
    """Leaving a part out of an Ask(...) is a TypeError where the ask is defined."""
    for f in dataclasses.fields(Ask):
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name
    with pytest.raises(TypeError):
        Ask(name="half", options=None, check=None, compute=None, view=lambda o, w: None)


@pytest.mark.parametrize("ask", ASKS, ids=lambda a: a.name)
def test_every_ask_is_complete(ask):
    assert registry.ASKS[ask.name] is ask
    for template in ask.templates:
        assert (DEFAULT_TEMPLATES / template).is_file(), template
    assert ask.options is None or issubclass(ask.options, BaseModel)
    assert callable(ask.view)
    for part in ("check", "compute", "json", "columns", "design", "steps"):
        value = getattr(ask, part)
        assert value is None or callable(value), part
    if ask.json is not None or ask.steps is not None:
        assert ask.compute is not None, "key.json entries are made from the computed result"
    assert all(need in registry.ASKS for need in ask.needs)
    assert ask.computational_graph in (None, False, True)


def test_every_ask_module_is_registered():
    """A module of exgen/asks that defines an Ask has it in the registry."""
    registered = {a.name for a in ASKS}
    for path in sorted((ROOT / "exgen" / "asks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Ask":
                name = next((k.value for k in node.keywords if k.arg == "name"), None)
                if isinstance(name, ast.Constant):
                    assert name.value in registered, f"{path.name}: ask {name.value!r}"


def test_the_definition_vocabulary_derives_from_the_registry():
    from exgen.define import schema

    assert tuple(registry.ASKS) == schema.ASKS


def test_the_readme_names_every_ask():
    readme = (ROOT / "README.md").read_text()
    for name in registry.ASKS:
        assert f"`{name}" in readme, name


def test_prerequisites_come_first_and_once():
    shown = registry.shown([("update", "u")])
    assert [a for a, _ in shown] == ["forward", "backward", "update"]
    assert registry.shown([("backward", None), ("forward", None)]) == [
        ("backward", None),
        ("forward", None),
    ]
    assert [a for a, _ in registry.shown([("gradients", ["x"]), ("update", "u")])] == [
        "forward",
        "gradients",
        "backward",
        "update",
    ]


def test_only_a_designed_network_skips_the_backward_pass():
    from exgen.define.load import load_sheet

    sheet = load_sheet(str(ROOT / "exercises" / "sheet11-logic-chain-rule.yaml"))
    assert [ex.backward for ex in sheet.exercises] == [False, False, True, True, True]
    assert [registry.designer([a for a, _ in ex.asks]) for ex in sheet.exercises] == [
        "logic",
        "logic",
        None,
        None,
        None,
    ]


# key.json steps of the update ask (STEPS.md) --------------------------------------------


def _value(tree):
    if isinstance(tree, str):
        return Fraction(tree)
    if isinstance(tree, list):
        return [[Fraction(x) for x in row] for row in tree]
    a, b = (_value(x) for x in tree["args"])
    op = {"sub": lambda x, y: x - y, "mul": lambda x, y: x * y}[tree["op"]]
    if isinstance(a, list) or isinstance(b, list):
        shape = a if isinstance(a, list) else b
        at = lambda v, i, j: v[i][j] if isinstance(v, list) else v  # noqa: E731
        return [
            [op(at(a, i, j), at(b, i, j)) for j in range(len(shape[0]))] for i in range(len(shape))
        ]
    return op(a, b)


def _round(x: Fraction, digits: int) -> str:
    q = Decimal(x.numerator) / Decimal(x.denominator)
    text = str(q.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    return "0." + "0" * digits if re.fullmatch(r"-0\.?0*", text) else text


@pytest.mark.parametrize("sheet, ident", [("hw4-residual-softmax", "t1")])
def test_update_steps_are_checkable(sheet, ident):
    from exgen.build.single import solve_sheet
    from exgen.define.load import load_sheet
    from exgen.typeset.notation import Notation

    s = load_sheet(str(ROOT / "exercises" / f"{sheet}.yaml"))
    traces = solve_sheet(s)
    ex, trace = next((e, t) for e, t in zip(s.exercises, traces) if e.spec.id == ident)
    notation = Notation(trace.graph)
    results = registry.results_for(ex, trace, notation)
    steps = registry.steps_json(ex, trace, notation, results)
    assert [s["target"] for s in steps] == [f"update.{p}" for p in ex.graph.params]
    digits = ex.rounding.digits
    for step in steps:
        assert step["latex"].startswith("{w_{") and step["latex"].endswith(
            " = " + str(step["result"])
        )
        assert step["expr"]["op"] == "sub" and step["expr"]["args"][1]["op"] == "mul"
        assert step["expr"]["args"][1]["args"][0] == "0.1"  # η as given
        value = _value(step["expr"])
        got = (
            [[_round(v, digits) for v in r] for r in value]
            if isinstance(value, list)
            else _round(value, digits)
        )
        assert got == step["result"]
    # dL/dw1 = 0.588 (test_asks): w1_new = 0.8 − 0.1 · 0.588 = 0.7412
    assert steps[0]["expr"]["args"][0] == "0.8" and steps[0]["result"] == _round(
        Fraction("0.7412"), digits
    )

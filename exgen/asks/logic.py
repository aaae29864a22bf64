"""`logic: {inputs, region | truth_table}`: the student designs a network of threshold
units; exgen designs one itself (logic_design.py), runs it on every test point, and the
key shows its weights and where it fires. The network is the answer: the definition gives
none, the sheet shows none, and it is solved forward only."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from exgen.asks.base import Ask, Work
from exgen.asks.logic_design import LogicDesign, LogicOptions, design
from exgen.engine.rounding import shown_array, shown_given
from exgen.typeset.formula import Frac, Num, Op, Paren, Row, Sym, Text, row
from exgen.typeset.notation import name_symbol
from exgen.typeset.spell import minus
from exgen.typeset.steps import value_formula

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


def compute(ex: ExerciseDef, trace, notation, options) -> dict:
    return {
        "points": len(ex.design.points),
        "expected": ex.design.expected,
        "outputs": ex.design.outputs(trace),
    }


def to_json(result: dict, ex: ExerciseDef) -> dict:
    return result


def view(options, work: Work) -> dict:
    plan: LogicDesign = work.ex.design
    values, notation = work.trace.values, work.notation
    weights = [
        row(notation.symbol(n), "=", value_formula(shown_array(values[n], 2, given=True), 2))
        for n in ("W1", "b1", "W2", "b2")
    ]
    out = values["y"].reshape(-1)
    hidden = values["h"]
    ok = all(int(o) == e for o, e in zip(out, plan.expected))
    table = None
    if plan.truth_table:
        table = {
            "head": [*plan.inputs, *[f"h{k + 1}" for k in range(hidden.shape[0])], "y", "wanted"],
            "rows": [
                [
                    *(shown_given(v, 0) for v in p),
                    *(str(int(v)) for v in hidden[:, i]),
                    str(int(out[i])),
                    str(plan.expected[i]),
                ]
                for i, p in enumerate(plan.points)
            ],
        }
    grid = None
    if not plan.truth_table and len(plan.inputs) == 2:
        xs = sorted({p[0] for p in plan.points})
        ys = sorted({p[1] for p in plan.points}, reverse=True)
        at = {p: (int(o), e) for p, o, e in zip(plan.points, out, plan.expected)}
        grid = {
            "xs": [minus(shown_given(x, 1)) for x in xs],  # −0.5, not a hyphen
            "rows": [
                {"y": minus(shown_given(y, 1)), "cells": [at[(x, y)] for x in xs]} for y in ys
            ],
        }
    units = [
        row(
            Sym("h", sub=str(k + 1)),
            "=",
            Text("step"),
            Paren(
                row(
                    _linear(q.coeffs, plan.inputs),
                    "+" if q.const >= 0 else "−",
                    Num(shown_given(abs(q.const), 2)),
                )
            ),
        )
        for k, q in enumerate(plan.inequalities)
    ]
    return {
        "weights": weights,
        "units": units,
        "ok": ok,
        "points": len(plan.points),
        "table": table,
        "grid": grid,
        "inequalities": []
        if plan.truth_table
        else [inequality_formula(q.text) for q in plan.inequalities],
        "inputs": plan.inputs,
    }


def inequality_formula(text: str):
    """An inequality as written in the definition ("-x1 + 1 > 0"), set as math: −x₁ + 1 > 0.
    (The definition stage parsed and checked it already.)"""
    tree = ast.parse(text, mode="eval").body
    sign = ">" if isinstance(tree.ops[0], ast.Gt) else "<"
    return row(_side(tree.left), Op(sign), _side(tree.comparators[0]))


SIGNS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "·"}


def _side(node):
    if isinstance(node, ast.Constant):
        return Num(shown_given(node.value, 2))
    if isinstance(node, ast.Name):
        return name_symbol(node.id, 0)
    if isinstance(node, ast.UnaryOp):
        inner = _side(node.operand)
        sign = "−" if isinstance(node.op, ast.USub) else "+"
        return row(Text(sign), Paren(inner) if isinstance(node.operand, ast.BinOp) else inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return Frac(_side(node.left), _side(node.right))
    if isinstance(node, ast.BinOp) and type(node.op) in SIGNS:
        left, right = _side(node.left), _side(node.right)
        if isinstance(node.op, ast.Mult):  # 2 x₁ as written; a sum in a product bracketed
            left, right = (
                Paren(t) if _is_sum(n) else t for t, n in ((left, node.left), (right, node.right))
            )
            if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Name):
                return Row((left, Text("\u2009"), right))
        elif isinstance(node.op, ast.Sub) and _is_sum(node.right):
            right = Paren(right)
        return row(left, Op(SIGNS[type(node.op)]), right)
    return Text(ast.unparse(node))


def _is_sum(node) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))


def _linear(coeffs, inputs):
    parts = []
    for c, name in zip(coeffs, inputs):
        if c == 0:
            continue
        sym = Sym(name[0], sub=name[1:]) if name[1:].isdigit() else Sym(name)
        text = shown_given(abs(c), 2)
        term = sym if abs(c) == 1 else Row((Num(text), Text("\u2009"), sym))
        if parts:
            parts += [Text(" + ") if c > 0 else Text(" − "), term]
        else:
            parts += [term] if c > 0 else [Text("−"), term]
    return Row(tuple(parts)) if parts else Num("0")


ASK = Ask(
    name="logic",
    options=LogicOptions,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=None,
    needs=(),
    needs_params=False,
    numeric=False,
    given_values=False,
    architecture=False,
    design=design,
    computational_graph=None,
    steps=None,
    state=None,
)

"""`logic: {inputs, region | truth_table}`: the student designs a network of threshold
units; exgen designs one itself (logic_design.py), runs it on every test point, and the
key shows its weights and where it fires. The network is the answer: the definition gives
none, the sheet shows none, and it is solved forward only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exgen.asks.base import Ask, Work
from exgen.asks.logic_design import LogicDesign, LogicOptions, design
from exgen.engine.rounding import shown_array, shown_given
from exgen.typeset.formula import Num, Paren, Row, Sym, Text, row
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
            "xs": [shown_given(x, 1) for x in xs],
            "rows": [{"y": shown_given(y, 1), "cells": [at[(x, y)] for x in xs]} for y in ys],
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
        "inequalities": [q.text for q in plan.inequalities],
        "inputs": plan.inputs,
    }


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
)

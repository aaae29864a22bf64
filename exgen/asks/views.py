"""Presentation data for the asks beyond forward/backward (templates/partials/*)."""
from __future__ import annotations

import numpy as np

from exgen.typeset.formula import Frac, Num, Paren, Row, Script, Sym, Text, joined, row
from exgen.engine.rounding import shown, shown_array, shown_given
from exgen.typeset.steps import Step, value_formula
from exgen.asks.chain_rule import formula as tree_formula
from exgen.asks.chain_rule import path_formula


def _sci(x: float) -> str:
    return f"{x:.2e}".replace("-", "−") if x else "0"


def _arr(arr, rank, fmt):
    return value_formula(np.vectorize(fmt, otypes=[object])(np.array(arr, dtype=float)), rank)


def numeric_check_view(result, trace, notation) -> dict:
    rows = []
    for r in result.rows:
        node = trace.graph.nodes[r.param]
        fmt = lambda x: f"{x:.6g}"  # noqa: E731
        rows.append({"grad": notation.grad(r.param, trace.graph.loss),
                     "backprop": _arr(r.backprop, node.rank, fmt),
                     "numeric": _arr(r.numeric, node.rank, fmt),
                     "worst": _sci(r.worst), "absolute": _sci(r.worst_absolute), "ok": r.agrees})
    return {"step": _sci(result.step), "rows": rows,
            "formula": row(Frac(row(Text("∂"), notation.symbol(trace.graph.loss)), row(Text("∂"), Sym("θ", sub="i"))),
                           "≈", Frac(Row((Text("L(θ + h eᵢ) − L(θ − h eᵢ)"),)), Text("2h")))}


def param_count_view(rows, notation) -> dict:
    out, total = [], 0
    for r in rows:
        items = [{"symbol": notation.symbol(n), "shape": "×".join(str(s) for s in shape) or "1",
                  "count": count} for n, shape, count in r.params]
        out.append({"layer": r.layer, "entries": items, "total": r.total})
        total += r.total
    return {"rows": out, "total": total}


def update_view(result, trace, notation) -> list[Step]:
    eta, rows = result
    digits = trace.rounding.digits
    eta_text = shown_given(eta, digits)
    steps = []
    for r in rows:
        node = trace.graph.nodes[r.param]
        sym = notation.symbol(r.param)
        new = Script(sym, sup=Text("new"))
        grad = notation.grad(r.param, trace.graph.loss)
        old_v = value_formula(shown_array(r.old, digits, given=True), node.rank)
        grad_v = value_formula(shown_array(r.grad, digits), node.rank)
        new_v = value_formula(shown_array(r.new, digits), node.rank)
        steps.append(Step(new, [row(sym, "−", Sym("η"), "·", grad),
                                row(old_v, "−", Num(eta_text), "·", grad_v), new_v], final=True))
    return steps


def symbolic_view(result, trace, notation) -> dict:
    digits = trace.rounding.digits
    exp = result.expansion
    of, wrt = notation.symbol(result.of), notation.symbol(result.wrt)
    lhs = Frac(row(Text("∂"), of), row(Text("∂"), wrt))
    path_sum_symbols = joined([path_formula(p, digits, False) for p in exp.paths], "+")
    path_sum_numbers = joined([path_formula(p, digits, True) for p in exp.paths], "+")
    factored = tree_formula(exp.factored, digits, False)
    graph = trace.graph
    shown_nodes = lambda names: [n for n in names if graph.nodes[n].kind == "given" or graph.nodes[n].named]  # noqa: E731
    paths = [joined([notation.symbol(n) for n in shown_nodes(names)], "→") for names in exp.path_names]
    return {
        "paths": paths,
        "sum": Step(lhs, [path_sum_symbols]),
        "factored": Step(lhs, [factored, tree_formula(exp.factored, digits, True),
                               Num(shown(exp.value, digits).replace("-", "−"))], final=True),
        "numbers": Step(lhs, [path_sum_numbers, Num(shown(exp.value, digits).replace("-", "−"))]),
        "engine": shown(result.engine_value, digits).replace("-", "−"),
        "agrees": abs(result.engine_value - exp.value) <= 1e-9 * max(1, abs(exp.value)),
    }


def softmax_view(trace, notation) -> dict:
    graph = trace.graph
    node = next(n for n in graph.nodes.values() if n.kind == "op" and n.op.name == "softmax")
    p, h = node.name, node.inputs[0]
    target = _one_hot_target(graph, p)
    digits = trace.rounding.digits
    P = lambda i: Row((Text("P"), Paren(row(Sym("y"), "=", Sym(i)))))  # noqa: E731
    hs = lambda i: Sym("h", sub=i)  # noqa: E731
    d = lambda a, b: Frac(row(Text("∂"), a), row(Text("∂"), b))  # noqa: E731
    expsum = Row((Text("∑"), Script(Text(""), sub=Sym("k")), Script(Text("e"), sup=Sym("h", sub="k"))))
    lines = [
        row(P("j"), "=", Frac(Script(Text("e"), sup=Sym("h", sub="j")), expsum)),
        row(Sym("L"), "=", "−", Row((Text("∑"), Script(Text(""), sub=Sym("j")))), Sym("y", sub="j"),
            Text(" log "), P("j")),
        row(d(P("i"), hs("i")), "=", P("i"), Paren(row(Num("1"), "−", P("i"))),
            Text("\u2003for j = i;\u2003\u2003"), d(P("j"), hs("i")), "=", "−", P("j"), P("i"),
            Text("\u2003for j ≠ i")),
        row(d(Sym("L"), hs("i")), "=", "−", Row((Text("∑"), Script(Text(""), sub=Sym("j")))),
            Frac(Sym("y", sub="j"), P("j")), d(P("j"), hs("i")), "=", "−", Sym("y", sub="i"),
            Paren(row(Num("1"), "−", P("i"))), "+",
            Row((Text("∑"), Script(Text(""), sub=Text("j≠i")))), Sym("y", sub="j"), P("i")),
        row(Text(""), "=", P("i"), Row((Text("∑"), Script(Text(""), sub=Sym("j")))), Sym("y", sub="j"),
            "−", Sym("y", sub="i"), "=", P("i"), "−", Sym("y", sub="i"),
            Text("\u2003since the yⱼ of a one-hot y sum to 1.")),
    ]
    numbers = []
    if target is not None:
        pv = shown_array(trace.values[p], digits)
        tv = shown_array(trace.values[target], digits, given=True)
        diff = shown_array(trace.values[p] - trace.values[target], digits)
        numbers = [Step(notation.grad(h, graph.loss), [row(notation.symbol(p), "−", notation.symbol(target)),
                                                   row(value_formula(pv, 2), "−", value_formula(tv, 2)),
                                                   value_formula(diff, 2)]),
                   Step(Text("backpropagation gives"),
                        [value_formula(shown_array(trace.grads[h], digits), 2)], final=True)]
    return {"lines": lines, "numbers": numbers, "p": notation.symbol(p), "h": notation.symbol(h)}


def _one_hot_target(graph, p: str):
    for node in graph.nodes.values():
        if node.kind == "op" and node.op.name == "mul" and any(
                graph.nodes[i].kind == "op" and graph.nodes[i].op.name == "log"
                and graph.nodes[i].inputs == (p,) for i in node.inputs):
            others = [i for i in node.inputs if graph.nodes[i].kind == "given"]
            return others[0] if others else None
    return None


def logic_view(design, trace, notation) -> dict:
    values = trace.values
    weights = [row(notation.symbol(n), "=",
                   value_formula(shown_array(values[n], 2, given=True), 2))
               for n in ("W1", "b1", "W2", "b2")]
    out = values["y"].reshape(-1)
    hidden = values["h"]
    ok = all(int(o) == e for o, e in zip(out, design.expected))
    table = None
    if design.truth_table:
        table = {"head": [*design.inputs, *[f"h{k + 1}" for k in range(hidden.shape[0])], "y", "wanted"],
                 "rows": [[*(shown_given(v, 0) for v in p), *(str(int(v)) for v in hidden[:, i]),
                           str(int(out[i])), str(design.expected[i])] for i, p in enumerate(design.points)]}
    grid = None
    if not design.truth_table and len(design.inputs) == 2:
        xs = sorted({p[0] for p in design.points})
        ys = sorted({p[1] for p in design.points}, reverse=True)
        at = {p: (int(o), e) for p, o, e in zip(design.points, out, design.expected)}
        grid = {"xs": [shown_given(x, 1) for x in xs],
                "rows": [{"y": shown_given(y, 1), "cells": [at[(x, y)] for x in xs]} for y in ys]}
    units = [row(Sym("h", sub=str(k + 1)), "=", Text("step"),
                 Paren(row(_linear(q.coeffs, design.inputs), "+" if q.const >= 0 else "−",
                           Num(shown_given(abs(q.const), 2)))))
             for k, q in enumerate(design.inequalities)]
    return {"weights": weights, "units": units, "ok": ok, "points": len(design.points),
            "table": table, "grid": grid, "inequalities": [q.text for q in design.inequalities],
            "inputs": design.inputs}


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

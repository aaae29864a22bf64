"""key.json: the machine-readable key (every node's value and gradient)."""

from __future__ import annotations

import json

from exgen.asks.base import entry
from exgen.asks.registry import asks_json, shown, steps_json
from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.rounding import decimal_mark, marked
from exgen.engine.solve import Trace
from exgen.typeset.notation import Notation
from exgen.typeset.steps import solution, step_entries


def exercise_json(
    ex: ExerciseDef, trace: Trace, sheet: SheetDef, results: dict, steps: bool = True
) -> dict:
    graph, digits = trace.graph, ex.rounding.digits
    out: dict = {
        "title": ex.spec.title,
        "asked": [a for a, _ in ex.asks],
        "arithmetic": "exact" if trace.exact else "float64",
    }
    if ex.backward:  # a designed network has no loss to learn from
        out.update(loss=graph.loss, params=list(graph.params))
    out["layout"] = graph.layout  # how ∑ₖ / ∑ₙ and row vectors read (column or row)
    if ex.rounding != sheet.rounding:
        out["rounding"] = ex.rounding.as_json()
    nodes = {n: node for n, node in graph.nodes.items() if node.kind != "const"}
    out["values"] = {
        n: entry(trace.values[n], node.rank, digits, node.kind == "given")
        for n, node in nodes.items()
    }
    out["grads"] = {
        n: entry(trace.grads[n], node.rank, digits, False)
        for n, node in nodes.items()
        if n in trace.grads
    }
    if steps and ex.design is None:  # a designed network is verified on its truth table, not worked
        out["steps"] = key_steps(ex, trace, sheet, results)
    return out


def key_steps(ex: ExerciseDef, trace: Trace, sheet: SheetDef, results: dict) -> list[dict]:
    """The worked steps in the order the key prints them, one entry per checkable claim
    (STEPS.md); the same Steps the key prints: the passes, then the asks' own steps."""
    notation = Notation.of(trace.graph, sheet.spec.notation)
    printed = solution(trace, notation, shown(ex.asks))  # with the passes an ask builds on
    passes = [e for step in printed.steps() for e in step_entries(step)]
    return passes + steps_json(ex, trace, notation, results)


def exercise_key(
    ex: ExerciseDef, trace: Trace, sheet: SheetDef, results: dict, steps: bool = True
) -> dict:
    """One exercise of key.json: its values, gradients, steps and the asks' answers."""
    out = exercise_json(ex, trace, sheet, results, steps)
    extra = asks_json(ex, results)
    if extra:
        out["asks"] = extra
    return out


def key_document(
    sheet: SheetDef,
    traces: list[Trace],
    results: list[dict] | None = None,
    student: str | None = None,
    seed: str | None = None,
    steps: bool = True,
) -> dict:
    """The key of one sheet (``steps`` False: without the worked steps, for grading)."""
    results = results if results is not None else [{} for _ in traces]
    exercises = {}
    with decimal_mark(sheet.spec.decimal):  # the steps' LaTeX, and the numbers as printed
        for ex, t, r in zip(sheet.exercises, traces, results):
            exercises[ex.spec.id] = exercise_key(ex, t, sheet, r, steps)
        if sheet.spec.decimal != ".":
            exercises = marked_tree(exercises)
    return {
        "sheet": sheet.name,
        "student": student,
        "seed": seed,
        "rounding": sheet.rounding.as_json(),
        "exercises": exercises,
    }


def marked_tree(x):
    """Every printed number in a JSON tree with the sheet's decimal mark (numbers, keys
    and other text as they are)."""
    if isinstance(x, str):
        return marked(x)
    if isinstance(x, list):
        return [marked_tree(v) for v in x]
    if isinstance(x, dict):
        return {k: marked_tree(v) for k, v in x.items()}
    return x


def dumps(document: dict, depth: int = 4) -> str:
    """JSON with the structure indented to ``depth`` levels and everything deeper on one
    line (each node's value and shown strings side by side; the C encoder does those)."""
    return _dump(document, depth, "") + "\n"


def _dump(x, depth: int, pad: str) -> str:
    flat = isinstance(x, list) and not any(isinstance(v, (dict, list)) for v in x)
    if depth == 0 or not isinstance(x, (dict, list)) or not x or flat:
        return json.dumps(x, ensure_ascii=False)
    inner = pad + "  "
    if isinstance(x, dict):
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dump(v, depth - 1, inner)}"
            for k, v in x.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + _dump(v, depth - 1, inner) for v in x]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"

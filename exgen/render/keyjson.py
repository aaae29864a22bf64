"""key.json: the machine-readable key (every node's value and gradient)."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np

from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.solve import Trace
from exgen.engine.rounding import shown_array
from exgen.typeset.notation import Notation
from exgen.typeset.steps import solution, step_entries


def nested(arr: np.ndarray, rank: int):
    """A 2-D array as JSON: a number (rank 0), a flat list (rank 1) or rows (rank 2)."""
    if rank == 0:
        return arr.reshape(-1)[0]
    if rank == 1:
        return arr.reshape(-1).tolist()
    return arr.tolist()


def _number(x):
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else float(x)
    return float(x) if not isinstance(x, (int, np.integer)) else int(x)


def entry(arr: np.ndarray, rank: int, digits: int, given: bool) -> dict:
    values = np.vectorize(_number, otypes=[object])(arr) if arr.size else arr
    return {"value": nested(values, rank), "shown": nested(shown_array(arr, digits, given), rank)}


def exercise_json(ex: ExerciseDef, trace: Trace, sheet: SheetDef) -> dict:
    graph, digits = trace.graph, ex.rounding.digits
    out: dict = {"title": ex.spec.title, "asked": [a for a, _ in ex.asks],
                 "arithmetic": "exact" if trace.exact else "float64"}
    if ex.logic is None:
        out.update(loss=graph.loss, params=list(graph.params))
    if ex.rounding != sheet.rounding:
        out["rounding"] = ex.rounding.as_json()
    nodes = {n: node for n, node in graph.nodes.items() if node.kind != "const"}
    out["values"] = {n: entry(trace.values[n], node.rank, digits, node.kind == "given")
                     for n, node in nodes.items()}
    out["grads"] = {n: entry(trace.grads[n], node.rank, digits, False)
                    for n, node in nodes.items() if n in trace.grads}
    if ex.logic is None:
        out["steps"] = key_steps(ex, trace, sheet)
    return out


def key_steps(ex: ExerciseDef, trace: Trace, sheet: SheetDef) -> list[dict]:
    """The worked steps in the order the key prints them, one entry per checkable claim
    (STEPS.md); the same Steps the key prints."""
    notation = Notation.of(trace.graph, sheet.spec.notation)
    return [e for step in solution(trace, notation, ex.asks).steps() for e in step_entries(step)]


def asks_json(ex: ExerciseDef, trace: Trace, results: dict) -> dict:
    """What the extra asks found, for machines (graders' scripts, `exgen check`)."""
    out: dict = {}
    digits = ex.rounding.digits
    for name, result in results.items():
        if name == "numeric_check":
            out[name] = {"step": result.step, "params": {
                r.param: {"numeric": nested(r.numeric, ex.graph.nodes[r.param].rank),
                          "max_relative_error": r.worst} for r in result.rows}}
        elif name == "param_count":
            out[name] = {"layers": {r.layer: {n: c for n, _, c in r.params} for r in result},
                         "total": sum(r.total for r in result)}
        elif name == "update":
            eta, rows = result
            out[name] = {"lr": _number(eta), "params": {
                r.param: entry(r.new, ex.graph.nodes[r.param].rank, digits, False) for r in rows}}
        elif name == "symbolic":
            out[name] = {"of": result.of, "wrt": result.wrt, "value": result.expansion.value,
                         "engine_value": result.engine_value}
        elif name == "pytorch":
            out[name] = {"ran": result.ran, "max_relative_error": result.max_error,
                         "output": result.output}
    if ex.logic is not None:
        out["logic"] = {"points": len(ex.logic.points), "expected": ex.logic.expected,
                        "outputs": [int(v) for v in trace.values["y"].reshape(-1)]}
    return out


def key_document(sheet: SheetDef, traces: list[Trace], results: list[dict] | None = None,
                 student: str | None = None, seed: str | None = None) -> dict:
    results = results if results is not None else [{} for _ in traces]
    exercises = {}
    for ex, t, r in zip(sheet.exercises, traces, results):
        exercises[ex.spec.id] = exercise_json(ex, t, sheet)
        extra = asks_json(ex, t, r)
        if extra:
            exercises[ex.spec.id]["asks"] = extra
    return {
        "sheet": sheet.name,
        "student": student,
        "seed": seed,
        "rounding": sheet.rounding.as_json(),
        "exercises": exercises,
    }


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
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dump(v, depth - 1, inner)}"
                 for k, v in x.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + _dump(v, depth - 1, inner) for v in x]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"

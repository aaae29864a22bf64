"""key.json: the machine-readable key (every node's value and gradient)."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np

from .definitions import ExerciseDef, SheetDef
from .engine import Trace
from .numbers import shown_array


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
    out: dict = {"title": ex.spec.title, "arithmetic": "exact" if trace.exact else "float64"}
    if ex.rounding != sheet.rounding:
        out["rounding"] = ex.rounding.as_json()
    out["loss"] = graph.loss
    out["params"] = list(graph.params)
    out["values"], out["grads"] = {}, {}
    for name, node in graph.nodes.items():
        if node.kind == "const":
            continue
        out["values"][name] = entry(trace.values[name], node.rank, digits, node.kind == "given")
    for name in trace.graph.nodes:
        if name in trace.grads and graph.nodes[name].kind != "const":
            out["grads"][name] = entry(trace.grads[name], graph.nodes[name].rank, digits, False)
    return out


def key_document(sheet: SheetDef, traces: list[Trace], student: str | None = None,
                 seed: str | None = None) -> dict:
    return {
        "sheet": sheet.name,
        "student": student,
        "seed": seed,
        "rounding": sheet.rounding.as_json(),
        "exercises": {ex.spec.id: exercise_json(ex, t, sheet)
                      for ex, t in zip(sheet.exercises, traces)},
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

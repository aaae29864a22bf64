"""`param_count`: the learnable parameters, per layer (the number a name ends in) and in total."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from exgen.asks.base import Ask, Work
from exgen.engine.ops.base import dims
from exgen.language import N_

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


@dataclass
class CountRow:
    layer: str
    params: list[tuple[str, tuple[int, ...], int]]  # name, shape as given, count

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.params)


def layer_of(graph, name: str) -> str:
    """A parameter's layer: the number its name ends in (W1, b1: layer 1), else the
    equation that uses it (K and b in z = conv2d(x, K) + b: the convolution z)."""
    m = re.search(r"(\d+)$", name)
    if m:
        return f"layer {m.group(1)}"
    users = [n for n in graph.nodes.values() if name in n.inputs]
    if not users:
        return name
    equation = users[0].equation
    ops = {n.op.name for n in graph.nodes.values() if n.equation == equation and n.op}
    target = graph.equations[equation].target
    # the kind is translated where it is shown (templates/partials/key_param_count.html)
    kind = N_("convolution") if "conv2d" in ops else N_("dense") if "matmul" in ops else "layer"
    return f"{kind} {target}"


def param_count(ex: ExerciseDef) -> list[CountRow]:
    """Learnable parameters grouped by layer."""
    rows: dict[str, CountRow] = {}
    for name in ex.graph.params:
        layer = layer_of(ex.graph, name)
        shape = tuple(np.shape(ex.given[name]))
        rows.setdefault(layer, CountRow(layer, [])).params.append(
            (name, shape, int(np.prod(shape)) if shape else 1)
        )
    return list(rows.values())


def compute(ex: ExerciseDef, trace, notation, options) -> list[CountRow]:
    return param_count(ex)


def view(options, work: Work) -> dict:
    out, total = [], 0
    for r in work.results["param_count"]:
        items = [
            {
                "symbol": work.notation.symbol(n),
                "shape": dims(shape) or "1",
                "count": count,
            }
            for n, shape, count in r.params
        ]
        out.append({"layer": r.layer, "entries": items, "total": r.total})
        total += r.total
    return {"rows": out, "total": total}


def to_json(result: list[CountRow], ex: ExerciseDef) -> dict:
    return {
        "layers": {r.layer: {n: c for n, _, c in r.params} for r in result},
        "total": sum(r.total for r in result),
    }


ASK = Ask(
    name="param_count",
    options=None,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=None,
    needs=(),
    needs_params=True,
    numeric=False,
    given_values=False,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)

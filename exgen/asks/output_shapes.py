"""`output_shapes`: the shape of each layer's output (each equation's result), with the
arithmetic that gives it — (W + 2P − K)/S + 1 for a convolution or a pooling, C·H·W for
a flatten, (m×n)(n×p) for a product. The arithmetic of an operation that works on maps
is the operation's own (Op.size_arithmetic): this module only collects it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from exgen.asks.base import Ask, Work
from exgen.engine.ops.base import dims

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef
    from exgen.engine.graph import Graph, Node


@dataclass
class LayerShape:
    name: str  # the equation's result
    shape: tuple[int, ...]
    rank: int
    lines: list[str]  # how the shape follows, one line per operation that changes it

    @property
    def text(self) -> str:
        if self.rank == 0:
            return "1×1 (a scalar)"
        return dims(self.shape)


def _lines(graph: Graph, node: Node) -> list[str]:
    """The arithmetic of one operation that sets its output's size (none: unchanged)."""
    shapes = [graph.nodes[i].shape for i in node.inputs]
    if node.op is None:
        return []
    what = node.op.name
    if node.op.shape_rule == "own":
        return [f"{what}, {line}" for line in node.op.size_arithmetic(*shapes)]
    if node.op.shape_rule == "matmul":
        (m, n), (_, p) = shapes
        return [f"product ({m}×{n})({n}×{p}) → {m}×{p}"]
    if node.op.shape_rule == "transpose":
        return [f"transpose {dims(shapes[0])} → {dims(node.shape)}"]
    if node.op.shape_rule in ("scalar", "keep0", "keep1"):
        return [f"{what} over {dims(shapes[0])} → {dims(node.shape)}"]
    return []


def output_shapes(ex: ExerciseDef) -> list[LayerShape]:
    graph = ex.graph
    rows = []
    for name, node in graph.nodes.items():
        if not node.named:
            continue
        members = [
            n for n in graph.nodes.values() if n.equation == node.equation and n.kind == "op"
        ]
        lines = [line for member in members for line in _lines(graph, member)]
        rows.append(LayerShape(name, node.shape, node.rank, lines))
    return rows


def compute(ex: ExerciseDef, trace, notation, options) -> list[LayerShape]:
    return output_shapes(ex)


def view(options, work: Work) -> dict:
    return {
        "rows": [
            {"symbol": work.notation.symbol(r.name), "shape": r.text, "lines": r.lines}
            for r in work.results["output_shapes"]
        ]
    }


def to_json(result: list[LayerShape], ex: ExerciseDef) -> dict:
    return {"layers": {r.name: list(r.shape) for r in result}}


ASK = Ask(
    name="output_shapes",
    options=None,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=None,
    needs=(),
    needs_params=False,
    numeric=False,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)

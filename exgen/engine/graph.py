"""Compile equations into a computational graph with checked shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from exgen.engine.equations import Equation, Expr
from exgen.engine.ops import Misfit, Op, make_op
from exgen.engine.ops.base import dims


class GraphError(ValueError):
    """A graph that cannot be built; ``blame`` is the given value at fault, if any,
    otherwise ``equation`` is the index of the equation at fault."""

    def __init__(self, message: str, blame: str | None = None, equation: int | None = None):
        super().__init__(message)
        self.blame = blame
        self.equation = equation


@dataclass
class Node:
    name: str
    kind: str  # "given", "const" or "op"
    shape: tuple[int, ...]  # 2-D up to matrices (a scalar 1×1, a vector n×1); else its own
    rank: int  # 0 scalar, 1 column vector, 2 matrix, 3 image C×H×W, 4 batch N×C×H×W
    op: Op | None = None
    inputs: tuple[str, ...] = ()
    as_row: tuple[bool, ...] = ()  # per input: a column vector broadcast along rows
    views: tuple = ()  # per input: the shape it is computed in (a row, a channel's bias)
    equation: int | None = None  # the equation the node belongs to
    named: bool = False  # the equation's own result (its left side)
    expr: Expr | None = None
    value: Fraction | None = None  # for constants


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)  # in evaluation order
    equations: list[Equation] = field(default_factory=list)
    loss: str = ""
    params: tuple[str, ...] = ()
    layout: str = "column"

    @property
    def exact(self) -> bool:
        return all(n.op.rational for n in self.nodes.values() if n.op is not None)

    @property
    def row_vectors(self) -> set[str]:
        """Vectors that broadcast along rows (biases in row layout): shown as rows."""
        return {i for n in self.nodes.values() for i, r in zip(n.inputs, n.as_row) if r}

    def ancestors(self, name: str) -> set[str]:
        """Every node ``name`` depends on."""
        seen, stack = set(), [name]
        while stack:
            for i in self.nodes[stack.pop()].inputs:
                if i not in seen:
                    seen.add(i)
                    stack.append(i)
        return seen

    def between(self, sources: set[str], target: str) -> list[str]:
        """Nodes on a path from one of ``sources`` to ``target``, target first."""
        down = set(sources)
        for name, node in self.nodes.items():
            if any(i in down for i in node.inputs):
                down.add(name)
        up = self.ancestors(target) | {target}
        return [n for n in reversed(self.nodes) if n in down and n in up]

    def consumers(self, name: str) -> list[str]:
        return [n.name for n in self.nodes.values() if name in n.inputs]


def describe(node: Node) -> str:
    if node.rank == 0:
        return "a scalar"
    if node.rank == 1:
        return f"of length {node.shape[0]}"
    return f"shape {dims(node.shape)}"


def given_shape(value: np.ndarray) -> tuple[tuple[int, ...], int]:
    """The shape and rank of a given value (1-D lists are column vectors; scalars,
    vectors and matrices are 2-D, images and batches keep their dimensions)."""
    if value.ndim == 0:
        return (1, 1), 0
    if value.ndim == 1:
        return (value.shape[0], 1), 1
    return tuple(value.shape), value.ndim


def compile_graph(
    equations: list[Equation],
    given: dict[str, np.ndarray],
    loss: str,
    params: list[str],
    layout: str = "column",
) -> Graph:
    graph = Graph(equations=list(equations), loss=loss, params=tuple(params), layout=layout)
    assigned: set[str] = set()
    for index, eq in enumerate(equations):
        if eq.target in given:
            raise GraphError(
                f"'{eq.target}' is given under values and also assigned by an equation",
                equation=index,
            )
        if eq.target in assigned:
            raise GraphError(f"'{eq.target}' is assigned twice", equation=index)
        for name in eq.expr.names():
            if name not in given and name not in assigned:
                later = (
                    " (it is assigned later: equations are read top to bottom)"
                    if any(e.target == name for e in equations[index:])
                    else ""
                )
                raise GraphError(
                    f"undefined name '{name}' in '{eq.source}': not under values "
                    f"and not assigned earlier{later}",
                    equation=index,
                )
            if name in given and name not in graph.nodes:
                shape, rank = given_shape(given[name])
                graph.nodes[name] = Node(name, "given", shape, rank)
        _add_expr(graph, eq.expr, index, target=eq.target)
        assigned.add(eq.target)
    unused = [n for n in given if n not in graph.nodes]
    if unused:
        raise GraphError(f"'{unused[0]}' is given but no equation uses it", blame=unused[0])
    return graph


def _add_expr(graph: Graph, expr: Expr, index: int, target: str | None = None) -> str:
    """Add an expression's nodes in post-order; return the name of its node."""
    if expr.op == "name" and target is None:
        return expr.name
    if expr.op == "const" and target is None:
        if expr.text not in graph.nodes:
            graph.nodes[expr.text] = Node(expr.text, "const", (1, 1), 0, value=expr.value)
        return expr.text
    name = target or expr.text
    if target is None and name in graph.nodes:  # the same sub-expression again
        return name
    args: tuple[str, ...]
    if expr.op in ("name", "const"):  # an alias or a constant on its own: `h = z1`, `c = 2`
        args = (_add_expr(graph, expr, index),)
        op = make_op("identity")
    elif expr.op == "pow":
        args = (_add_expr(graph, expr.args[0], index),)
        op = op_of(expr, graph.layout)
    else:
        args = tuple(_add_expr(graph, a, index) for a in expr.args)
        op = op_of(expr, graph.layout)
    inputs = [graph.nodes[a] for a in args]
    if not op.tensors:
        _matrices_only(inputs, expr, index)
    shape, rank, as_row = _infer(op.shape_rule, inputs, expr, index, graph.layout, op)
    views = tuple(_view(n, row, shape, rank) for n, row in zip(inputs, as_row))
    graph.nodes[name] = Node(
        name,
        "op",
        shape,
        rank,
        op=op,
        inputs=args,
        as_row=as_row,
        views=views,
        equation=index,
        named=target is not None,
        expr=expr,
    )
    return name


def _matrices_only(inputs: list[Node], expr: Expr, index: int) -> None:
    for node in inputs:
        if node.rank > 2:
            raise GraphError(
                f"'{expr.text}' takes scalars, vectors and matrices; {node.name} has "
                f"{describe(node)} (flatten(...) turns an image or a batch into a matrix)",
                blame=node.name if node.kind == "given" else None,
                equation=index,
            )


def _view(node: Node, row: bool, shape: tuple, rank: int) -> tuple | None:
    """The shape an input is computed in: a vector as a row (as_row), a vector of one
    value per channel against an image (C×1×1) or a batch (1×C×1×1); None: its own."""
    if row:
        return (1, node.shape[0])
    if node.rank == 1 and rank > 2:
        return (node.shape[0], 1, 1) if rank == 3 else (1, node.shape[0], 1, 1)
    return None


def op_of(expr: Expr, layout: str) -> Op:
    """The operation of an expression node, with its exponent or keyword arguments."""
    if expr.op == "pow":
        return make_op("pow", exponent=expr.args[1].value)
    return make_op(expr.op, axis=0 if layout == "column" else 1, keywords=dict(expr.keywords))


def _blame(a: Node, b: Node) -> str | None:
    return a.name if a.kind == "given" else b.name if b.kind == "given" else None


def _infer(
    rule: str,
    inputs: list[Node],
    expr: Expr,
    index: int,
    layout: str = "column",
    op: Op | None = None,
):
    """Output shape, rank and per-input row-broadcast flags, or a GraphError; ``rule`` is
    the operation's shape_rule (engine/ops)."""
    if rule == "own":  # images, kernels, windows: the operation knows its output
        try:
            shape, rank = op.shape(*(n.shape for n in inputs)) if op is not None else ((), 0)
        except Misfit as misfit:
            blamed = next((n.name for n in reversed(inputs) if n.kind == "given"), None)
            if misfit.blame is not None and inputs[misfit.blame].kind == "given":
                blamed = inputs[misfit.blame].name
            raise GraphError(
                str(misfit).format(
                    *(n.name for n in inputs),
                    expr=expr.text,
                    **{f"d{i}": describe(n) for i, n in enumerate(inputs)},
                ),
                blame=blamed,
                equation=index,
            ) from None
        return shape, rank, (False,) * len(inputs)
    if rule == "matmul":
        a, b = inputs
        if a.shape[1] != b.shape[0]:
            blamed = _blame(a, b)
            other = b if blamed == a.name else a
            if blamed is not None:
                msg = (
                    f"{describe(a if blamed == a.name else b)} does not fit {expr.text} "
                    f"with {other.name} {describe(other)}"
                )
            else:
                msg = (
                    f"{a.name} ({describe(a)}) and {b.name} ({describe(b)}) do not fit "
                    f"in '{expr.text}'"
                )
            raise GraphError(msg, blame=blamed, equation=index)
        shape = (a.shape[0], b.shape[1])
        rank = 1 if b.rank == 1 and shape[0] > 1 else 0 if shape == (1, 1) and b.rank < 2 else 2
        return shape, rank, (False, False)
    if rule == "broadcast":
        return _broadcast(inputs, expr, index, layout)
    if rule == "normalize":
        return _normalize(inputs, expr, index, layout, op)
    (a,) = inputs
    if rule == "scalar":
        return (1, 1), 0, (False,)
    if rule in ("keep0", "keep1"):  # a reduction along one axis, the axis kept (size 1)
        _matrices_only([a], expr, index)
        shape = (1, a.shape[1]) if rule == "keep0" else (a.shape[0], 1)
        rank = 0 if shape == (1, 1) else 1 if shape[1] == 1 else 2
        return shape, rank, (False,)
    if rule == "transpose":
        return (a.shape[1], a.shape[0]), (0 if a.rank == 0 else 2), (False,)
    if rule != "same":
        raise ValueError(f"unknown shape rule {rule!r}")
    return a.shape, a.rank, (False,)


def _broadcast(inputs: list[Node], expr: Expr, index: int, layout: str):
    a, b = inputs
    if max(a.rank, b.rank) > 2:
        return _broadcast_tensor(a, b, expr, index)
    shapes = [a.shape, b.shape]
    as_row = [False, False]
    try:
        if layout == "row" and {a.rank, b.rank} == {1, 2} and shapes[0] != shapes[1]:
            raise ValueError("in row layout a vector broadcasts along the rows")
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        # a column vector added to a batch in row layout (X W + b): broadcast along rows
        for i, (node, other) in enumerate(((a, b), (b, a))):
            if node.rank == 1 and other.rank == 2 and other.shape[1] == node.shape[0]:
                as_row[i] = True
                shapes[i] = (1, node.shape[0])
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            blamed = _blame(a, b)
            raise GraphError(
                f"{a.name} ({describe(a)}) and {b.name} ({describe(b)}) do not fit "
                f"in '{expr.text}'",
                blame=blamed,
                equation=index,
            ) from None
    if a.rank == 0 and b.rank == 0:
        rank = 0
    elif shape[1] == 1 and not any(n.rank == 2 for n in (a, b)):
        rank = 1
    else:
        rank = 2 if shape != (1, 1) or 2 in (a.rank, b.rank) else 0
    return tuple(shape), rank, tuple(as_row)


def _normalize(inputs: list[Node], expr: Expr, index: int, layout: str, op: Op | None):
    """batchnorm/layernorm(x, gamma, beta): x a batch (features × samples, or samples ×
    features in the row layout), gamma and beta one value per feature (as rows in the
    row layout); or batchnorm of a batch of images N×C×H×W, one value per channel."""
    x, *params = inputs
    if x.rank > 2:
        return _normalize_images(x, params, expr, index, op)
    if x.rank == 0:
        raise GraphError(
            f"'{expr.text}' normalises features, but {x.name} is {describe(x)}",
            blame=x.name if x.kind == "given" else None,
            equation=index,
        )
    features = x.shape[0] if layout == "column" else x.shape[1]
    for p in params:
        if p.rank > 1 or p.shape[0] * p.shape[1] != features:
            raise GraphError(
                f"{p.name} ({describe(p)}) must hold one value per feature in '{expr.text}': "
                f"{features} values for {x.name} ({describe(x)})",
                blame=p.name if p.kind == "given" else None,
                equation=index,
            )
    return x.shape, x.rank, (False, layout == "row", layout == "row")


def _normalize_images(x: Node, params: list[Node], expr: Expr, index: int, op: Op | None):
    """batchnorm of a batch of images N×C×H×W, each channel over N, H and W: gamma and
    beta one value per channel (computed as 1×C×1×1, node.views)."""
    if x.rank != 4 or op is None:  # layer norm refuses images (Op.tensors) before this
        raise GraphError(
            f"'{expr.text}' normalises each channel over a batch of images N×C×H×W; "
            f"{x.name} has {describe(x)}, a single image (a batch of one is 1×C×H×W)",
            blame=x.name if x.kind == "given" else None,
            equation=index,
        )
    channels = x.shape[1]
    for p in params:
        if p.rank > 1 or p.shape[0] * p.shape[1] != channels:
            raise GraphError(
                f"{p.name} ({describe(p)}) must hold one value per channel in '{expr.text}': "
                f"{channels} values for {x.name} ({describe(x)})",
                blame=p.name if p.kind == "given" else None,
                equation=index,
            )
    op.on_images()
    return x.shape, x.rank, (False, False, False)


def _broadcast_tensor(a: Node, b: Node, expr: Expr, index: int):
    """An image or a batch with a scalar, a tensor of its shape, or a vector of one value
    per channel (a convolution's bias: C×H×W + C, N×C×H×W + C)."""
    big, small = (a, b) if a.rank >= b.rank else (b, a)
    channels = big.shape[0] if big.rank == 3 else big.shape[1]
    fits = (
        small.rank == 0
        or small.shape == big.shape
        or (small.rank == 1 and small.shape[0] == channels)
    )
    if not fits:
        raise GraphError(
            f"{a.name} ({describe(a)}) and {b.name} ({describe(b)}) do not fit in "
            f"'{expr.text}': an image or a batch takes a scalar, a value of its own shape, "
            f"or a vector of one value per channel ({channels})",
            blame=_blame(a, b),
            equation=index,
        )
    return big.shape, big.rank, (False, False)

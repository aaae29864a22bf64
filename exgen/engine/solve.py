"""Solve a graph forward and backward (reverse mode), recording a full trace.

The numeric core knows nothing of files or display; rounding is a policy passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from exgen.engine.graph import Graph, Node
from exgen.engine.ops import Op
from exgen.engine.rounding import (
    Rounding,
    exact_array,
    float_array,
    out_of_range,
    round_array,
    to_fraction,
)


class NumericError(ArithmeticError):
    """A value the network cannot compute (division by zero, log of 0, overflow)."""

    def __init__(self, message: str, equation: int | None):
        super().__init__(message)
        self.equation = equation


@dataclass
class Contribution:
    """One term of an adjoint: ∂L/∂``source`` flows into ∂L/∂``target``."""

    source: str
    target: str
    value: np.ndarray


@dataclass
class Trace:
    """Everything the key shows, in the order a student computes it."""

    graph: Graph
    rounding: Rounding
    exact: bool
    values: dict[str, np.ndarray] = field(default_factory=dict)
    local: dict[str, np.ndarray] = field(default_factory=dict)
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    contributions: list[Contribution] = field(default_factory=list)
    # an op's intermediates printed on lines of their own (Op.stage_names), by node
    stages: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def forward_order(self) -> list[str]:
        return [n for n, node in self.graph.nodes.items() if node.kind == "op"]

    @property
    def backward_order(self) -> list[str]:
        return [
            n
            for n in reversed(self.graph.nodes)
            if n in self.grads and self.graph.nodes[n].kind != "const"
        ]


def solve(
    graph: Graph,
    given: dict[str, np.ndarray],
    rounding: Rounding,
    exact: bool | None = None,
    backward: bool = True,
    replaced: dict[str, dict[int, Fraction]] | None = None,
    replaced_grads: dict[str, dict[int, Fraction]] | None = None,
) -> Trace:
    """Forward and (unless ``backward`` is False) backward pass. ``exact`` defaults to
    the graph's own (rational or not). ``replaced``: node -> {entry (C order): value},
    entries of computed values taken as given instead (a student's own earlier values,
    for error carried forward); everything after them is computed from them.
    ``replaced_grads``: the same for gradients, which the backward pass hands on instead
    of its own (a student's own error signal, ∂L/∂z₂, for the gradients it leads to)."""
    exact = graph.exact if exact is None else exact
    convert = _converter(exact)
    trace = Trace(graph, rounding, exact)
    carry = _carrier(rounding)
    decimal = _decimal_arithmetic(trace)
    for name, node in graph.nodes.items():
        if node.kind == "given":
            trace.values[name] = convert(given[name]).reshape(node.shape)
        elif node.kind == "const":
            trace.values[name] = convert([[node.value]])
        elif node.op is not None:
            xs = _aligned(trace, node)
            if node.op.stage_names:  # on exact decimals under carried rounding, as below
                stages: dict[str, np.ndarray] = {}
                ins = list(map(_decimals, xs)) if decimal else xs
                out = _checked(_staged(node.op, carry, stages), node, *ins)
                trace.values[name] = float_array(out) if decimal else out
                trace.stages[name] = {k: float_array(v) for k, v in stages.items()}
            elif decimal and node.op.rational:
                out = _checked(node.op.forward, node, *map(_decimals, xs))
                trace.values[name] = float_array(carry(out))
            else:
                trace.values[name] = carry(_checked(node.op.forward, node, *xs))
            if replaced and name in replaced:
                trace.values[name] = _with_entries(trace.values[name], replaced[name], exact)
            if node.op.elementwise_local:
                trace.local[name] = carry(_checked(node.op.local, node, xs[0], trace.values[name]))
    if backward:
        backpropagate(trace, replaced_grads)
    return trace


def _with_entries(value: np.ndarray, entries: dict[int, Fraction], exact: bool) -> np.ndarray:
    out = value.copy()
    flat = out.reshape(-1)
    for k, v in entries.items():
        flat[k] = v if exact else float(v)
    return out


def _converter(exact: bool):
    return exact_array if exact else float_array


def _carrier(rounding: Rounding):
    """Rounding of every intermediate when the rule carries it; nothing otherwise."""
    return (lambda a: round_array(a, rounding.digits)) if rounding.carry else (lambda a: a)


def _decimal_arithmetic(trace: Trace) -> bool:
    """Whether a float network's rational steps run on exact decimals: with carried
    rounding every value is a short decimal, and a student's arithmetic on them is exact
    (float64 would turn −0.135 − 0.45 + 0.54 = −0.045 into −0.04499…, rounded the wrong
    way)."""
    return trace.rounding.carry and not trace.exact


def _decimals(a: np.ndarray) -> np.ndarray:
    """A carried float array as the exact decimals it stands for."""
    out = np.empty(np.shape(a), dtype=object)
    out.reshape(-1)[:] = [to_fraction(v) for v in np.asarray(a).reshape(-1)]
    return out


def _aligned(trace: Trace, node: Node) -> list[np.ndarray]:
    """The inputs in the shapes the operation computes in (node.views): a bias vector as
    a row, or as one value per channel of an image."""
    views = node.views or (None,) * len(node.inputs)
    return [
        trace.values[i] if view is None else trace.values[i].reshape(view)
        for i, view in zip(node.inputs, views)
    ]


def backpropagate(trace: Trace, replaced: dict[str, dict[int, Fraction]] | None = None) -> Trace:
    """The backward pass over a trace that has its forward pass (``solve`` with
    ``backward=False``): a candidate that fails on its forward values costs no more.
    ``replaced``: gradients' entries handed on instead of the computed ones."""
    graph = trace.graph
    rounded = _carrier(trace.rounding)
    decimal = _decimal_arithmetic(trace)
    exactly = _decimals if decimal else (lambda a: a)

    def carry(a):
        return float_array(rounded(a)) if decimal else rounded(a)

    trace.grads[graph.loss] = _converter(trace.exact)([[1]])
    for name in reversed(list(graph.nodes)):
        node = graph.nodes[name]
        if node.op is None or name not in trace.grads:
            continue
        if replaced and name in replaced:  # complete here: every consumer came before
            trace.grads[name] = _with_entries(trace.grads[name], replaced[name], trace.exact)
        g = trace.grads[name]
        xs = _aligned(trace, node)
        if node.op.elementwise_local:
            parts = (exactly(g) * exactly(trace.local[name]),)
        elif node.op.stage_names:  # its own stages rounded, exact decimals kept exact
            stages = {k: exactly(v) for k, v in trace.stages[name].items()}
            parts, more = node.op.staged_backward(
                exactly(g), [exactly(x) for x in xs], stages, rounded
            )
            trace.stages[name].update({k: float_array(v) for k, v in more.items()})
        else:
            parts = node.op.backward(
                exactly(g), [exactly(x) for x in xs], exactly(trace.values[name])
            )
        for source, part in zip(node.inputs, parts):
            if graph.nodes[source].kind == "const":
                continue
            part = carry(np.asarray(part).reshape(graph.nodes[source].shape))
            trace.contributions.append(Contribution(name, source, part))
            previous = trace.grads.get(source)
            trace.grads[source] = (
                part if previous is None else carry(exactly(previous) + exactly(part))
            )
    return trace


def _staged(op: Op, carry, stages: dict):
    """The op's stages computed into ``stages``; returns a function giving its output."""

    def compute(*xs):
        stages.update(op.staged(xs, carry))
        return stages.pop("out")

    return compute


def _checked(compute, node: Node, *args) -> np.ndarray:
    # underflow is harmless (sigmoid(-1000) is 0 to any shown precision): only overflow,
    # division by zero and invalid operations stop the solve
    with np.errstate(all="raise", under="ignore"):
        try:
            out = np.asarray(compute(*args))
        except (ZeroDivisionError, FloatingPointError, OverflowError) as exc:
            raise NumericError(_numeric_message(node, str(exc)), node.equation) from None
    if out.dtype != object and not np.all(np.isfinite(out)):
        raise NumericError(_numeric_message(node, "not finite"), node.equation)
    trouble = out_of_range(out)
    if trouble:
        raise NumericError(_numeric_message(node, f"it reaches {trouble}"), node.equation)
    return out


def _numeric_message(node: Node, reason: str) -> str:
    text = node.expr.text if node.expr is not None else node.name
    if node.op is None:
        return f"'{text}' cannot be computed: {reason}"
    domain = node.op.domain_message(text, reason)
    if domain is not None:
        return domain
    if node.op.name == "div" or "divide" in reason or "division" in reason:
        return f"'{text}' divides by zero"
    return f"'{text}' cannot be computed: {reason.replace('encountered in', 'in')}"

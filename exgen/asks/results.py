"""Results of the asks beyond forward and backward: numeric check, parameter count,
gradient-descent update. Pure numbers; the renderer and key.json present them."""
from __future__ import annotations

from typing import TYPE_CHECKING

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from exgen.engine.solve import Trace, solve
from exgen.engine.rounding import Rounding, round_array

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


@dataclass
class CheckRow:
    param: str
    backprop: np.ndarray
    numeric: np.ndarray
    relative_error: np.ndarray

    @property
    def worst(self) -> float:
        return float(self.relative_error.max()) if self.relative_error.size else 0.0

    @property
    def worst_absolute(self) -> float:
        return float(np.abs(self.backprop - self.numeric).max()) if self.backprop.size else 0.0

    @property
    def agrees(self) -> bool:
        """Close in relative terms, or (for tiny gradients) in absolute terms."""
        return self.worst < 1e-4 or self.worst_absolute < 1e-9


@dataclass
class NumericCheck:
    step: float
    rows: list[CheckRow] = field(default_factory=list)


def relative_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a − b| / (|a| + |b|), 0 where both are 0."""
    denominator = np.abs(a) + np.abs(b)
    return np.where(denominator > 0, np.abs(a - b) / np.where(denominator > 0, denominator, 1), 0.0)


def numeric_check(ex: ExerciseDef, step: float) -> NumericCheck:
    """Central differences (L(θ+h) − L(θ−h)) / 2h beside full-precision backprop."""
    plain = Rounding(ex.rounding.digits, carry=False)
    given = {k: np.asarray(v, dtype=object) for k, v in ex.given.items()}
    reference = solve(ex.graph, given, plain, exact=False)
    result = NumericCheck(step)
    for name in ex.graph.params:
        base = np.array(reference.values[name], dtype=float)
        numeric = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            losses = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[index] += sign * step
                values = dict(given, **{name: shifted.reshape(np.shape(ex.given[name]))})
                out = solve(ex.graph, values, plain, exact=False, backward=False)
                losses.append(float(out.values[ex.graph.loss][0, 0]))
            numeric[index] = (losses[0] - losses[1]) / (2 * step)
        backprop = np.array(reference.grads.get(name, np.zeros(base.shape)), dtype=float)
        result.rows.append(CheckRow(name, backprop, numeric, relative_error(backprop, numeric)))
    return result


@dataclass
class CountRow:
    layer: str
    params: list[tuple[str, tuple[int, ...], int]]   # name, shape as given, count

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.params)


def param_count(ex: ExerciseDef) -> list[CountRow]:
    """Learnable parameters grouped by layer (the number a name ends in)."""
    rows: dict[str, CountRow] = {}
    for name in ex.graph.params:
        m = re.search(r"(\d+)$", name)
        layer = f"layer {m.group(1)}" if m else name
        shape = tuple(np.shape(ex.given[name]))
        rows.setdefault(layer, CountRow(layer, [])).params.append(
            (name, shape, int(np.prod(shape)) if shape else 1))
    return list(rows.values())


@dataclass
class UpdateRow:
    param: str
    old: np.ndarray
    grad: np.ndarray
    new: np.ndarray


def update(ex: ExerciseDef, trace: Trace, lr: float) -> tuple[Fraction | float, list[UpdateRow]]:
    """One gradient-descent step θ ← θ − η ∂L/∂θ, with the key's gradients."""
    eta = Fraction(repr(lr)) if trace.exact else float(lr)
    rows = []
    for name in ex.graph.params:
        old, grad = trace.values[name], trace.grads[name]
        new = old - eta * grad
        if trace.rounding.carry:
            new = round_array(new, trace.rounding.digits)
        rows.append(UpdateRow(name, old, grad, new))
    return eta, rows


@dataclass
class SymbolicResult:
    of: str
    wrt: str
    expansion: object
    engine_value: float


def symbolic(ex: ExerciseDef, trace: Trace, notation, of: str, wrt: str) -> SymbolicResult:
    """The expansion, and the engine's own ∂of/∂wrt (a second solve with `of` as loss)."""
    from exgen.engine.graph import compile_graph
    from exgen.asks.chain_rule import expand
    graph = compile_graph(ex.graph.equations, ex.given, of, [wrt], ex.graph.layout)
    check = solve(graph, ex.given, Rounding(ex.rounding.digits), exact=False)
    expansion = expand(ex.graph, trace, notation, of, wrt)
    return SymbolicResult(of, wrt, expansion, float(check.grads[wrt][0, 0]))


def results_for(ex: ExerciseDef, trace: Trace, notation) -> dict:
    """Every extra ask's result, computed before anything is written."""
    from exgen.asks.pytorch import run
    out: dict = {}
    for name, options in ex.asks:
        if name == "numeric_check":
            out[name] = numeric_check(ex, options.step)
        elif name == "param_count":
            out[name] = param_count(ex)
        elif name == "update":
            out[name] = update(ex, trace, options.lr)
        elif name == "symbolic":
            out[name] = symbolic(ex, trace, notation, options.of, options.wrt)
        elif name == "pytorch":  # torch computes in full float64 precision: so does its reference
            full = solve(ex.graph, ex.given, Rounding(ex.rounding.digits, carry=False), exact=False)
            out[name] = run(ex, full)
    return out

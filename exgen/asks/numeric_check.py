"""`numeric_check`: central differences (L(θ+h) − L(θ−h)) / 2h for every parameter entry,
beside full-precision backpropagation, with their relative error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from exgen.asks.base import Ask, Strict, Work, loss_and_param_gradients, nested
from exgen.engine.rounding import Rounding, shown_significant
from exgen.engine.solve import NumericError, solve
from exgen.errors import DefinitionError
from exgen.typeset.formula import Frac, Num, Paren, Row, Sym, Text, row
from exgen.typeset.notation import indexed
from exgen.typeset.steps import value_formula

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


class NumericCheckOptions(Strict):
    step: float = Field(1e-5, gt=0, lt=1)


@dataclass
class CheckRow:
    param: str
    backprop: np.ndarray
    numeric: np.ndarray
    relative_error: np.ndarray
    resolution: np.ndarray  # what float64 can resolve of the quotient at this loss

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

    @property
    def unresolved(self) -> bool:
        """The loss is so large that float64 cannot resolve the difference quotient as
        finely as the comparison needs: the finite difference says nothing here."""
        return not self.agrees and bool(
            np.all(np.abs(self.backprop - self.numeric) <= 64 * self.resolution)
        )


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
        resolution = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            losses = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[index] += sign * step
                values = dict(given, **{name: shifted.reshape(np.shape(ex.given[name]))})
                try:
                    out = solve(ex.graph, values, plain, exact=False, backward=False)
                except NumericError as exc:  # the shift left the function's domain
                    entry = "".join(f"[{i + 1}]" for i in index) if base.size > 1 else ""
                    raise DefinitionError(
                        f"numeric_check: shifting {name}{entry} by ±{step:g} makes the network "
                        f"uncomputable ({exc}); ask for a smaller step, e.g. "
                        f"numeric_check: {{step: {step / 100:g}}}",
                        path=f"{ex.path}.ask",
                    ) from None
                losses.append(float(out.values[ex.graph.loss][0, 0]))
            numeric[index] = (losses[0] - losses[1]) / (2 * step)
            resolution[index] = np.finfo(float).eps * max(abs(x) for x in losses) / step
        backprop = np.array(reference.grads.get(name, np.zeros(base.shape)), dtype=float)
        result.rows.append(
            CheckRow(name, backprop, numeric, relative_error(backprop, numeric), resolution)
        )
    return result


def compute(ex: ExerciseDef, trace, notation, options: NumericCheckOptions) -> NumericCheck:
    return numeric_check(ex, options.step)


def _sci(x: float) -> str:
    """A small measure (an error, the step) in three significant digits."""
    return str(shown_significant(np.array([[x]]), 3)[0, 0]).replace("-", "−") if x else "0"


def _arr(arr, rank):
    """A gradient in six significant digits, one number format for the whole matrix."""
    return value_formula(shown_significant(np.array(arr, dtype=float), 6), rank)


def _shifted(notation, trace, sign: str):
    """L(θ ± h eᵢ): the loss with entry i of θ moved by ±h."""
    moved = row(Sym("θ"), sign, Sym("h"), indexed(Sym("e", bold=True), "i"))
    return Row((notation.symbol(trace.graph.loss), Paren(moved)))


def view(options, work: Work) -> dict:
    result, trace, notation = work.results["numeric_check"], work.trace, work.notation
    rows = []
    for r in result.rows:
        node = trace.graph.nodes[r.param]
        rows.append(
            {
                "grad": notation.grad(r.param, trace.graph.loss),
                "backprop": _arr(r.backprop, node.rank),
                "numeric": _arr(r.numeric, node.rank),
                "worst": _sci(r.worst),
                "absolute": _sci(r.worst_absolute),
                "ok": r.agrees,
            }
        )
    return {
        "step": _sci(result.step),
        "rows": rows,
        "formula": row(
            Frac(
                row(Text("∂"), notation.symbol(trace.graph.loss)),
                row(Text("∂"), indexed("θ", "i")),
            ),
            "≈",
            Frac(
                row(_shifted(notation, trace, "+"), "−", _shifted(notation, trace, "−")),
                row(Num("2"), Sym("h")),
            ),
        ),
    }


def to_json(result: NumericCheck, ex: ExerciseDef) -> dict:
    return {
        "step": result.step,
        "params": {
            r.param: {
                "numeric": nested(r.numeric, ex.graph.nodes[r.param].rank),
                "max_relative_error": r.worst,
            }
            for r in result.rows
        },
    }


ASK = Ask(
    name="numeric_check",
    options=NumericCheckOptions,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=loss_and_param_gradients,
    needs=(),
    needs_params=True,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)

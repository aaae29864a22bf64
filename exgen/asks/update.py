"""`update: {lr}`: one gradient-descent step θ_new = θ − η·∂L/∂θ for every parameter,
with the key's own gradients (rounded as the key rounds when the rule carries)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING
from collections.abc import Callable

import numpy as np
from pydantic import Field

from exgen.asks.base import Ask, Strict, Work, entry, loss_and_param_gradients, number
from exgen.engine.rounding import round_array, shown_array, shown_given
from exgen.engine.solve import Trace
from exgen.typeset.formula import Num, Script, Sym, Text, row
from exgen.typeset.steps import Step, value_formula

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


class UpdateOptions(Strict):
    lr: float = Field(gt=0, allow_inf_nan=False)


@dataclass
class UpdateRow:
    param: str
    old: np.ndarray
    grad: np.ndarray
    new: np.ndarray


@dataclass
class Update:
    eta: Fraction | float
    rows: list[UpdateRow]
    digits: int
    row_vectors: set[str]       # shown as rows, as everywhere else in the key

    def shown(self, r: UpdateRow) -> tuple[np.ndarray, str, np.ndarray, np.ndarray]:
        """θ, η, ∂L/∂θ and θ_new as the key prints them (strings with ASCII '-')."""
        turn = (lambda a: a.T) if r.param in self.row_vectors else (lambda a: a)
        return (turn(shown_array(r.old, self.digits, given=True)), shown_given(self.eta, self.digits),
                turn(shown_array(r.grad, self.digits)), turn(shown_array(r.new, self.digits)))


def update(ex: ExerciseDef, trace: Trace, lr: float) -> Update:
    """One gradient-descent step θ ← θ − η ∂L/∂θ, with the key's gradients."""
    eta = Fraction(repr(lr)) if trace.exact else float(lr)
    rows = []
    for name in ex.graph.params:
        old, grad = trace.values[name], trace.grads[name]
        new = old - eta * grad
        if trace.rounding.carry:
            new = round_array(new, trace.rounding.digits)
        rows.append(UpdateRow(name, old, grad, new))
    return Update(eta, rows, trace.rounding.digits, trace.graph.row_vectors)


def compute(ex: ExerciseDef, trace: Trace, notation, options: UpdateOptions) -> Update:
    return update(ex, trace, options.lr)


def printed_steps(result: Update, trace: Trace, notation) -> list[Step]:
    steps = []
    for r in result.rows:
        rank = trace.graph.nodes[r.param].rank
        old, eta, grad, new = result.shown(r)
        sym = notation.symbol(r.param)
        steps.append(Step(Script(sym, sup=Text("new")),
                          [row(sym, "−", Sym("η"), "·", notation.grad(r.param, trace.graph.loss)),
                           row(value_formula(old, rank), "−", Num(eta.replace("-", "−")), "·",
                               value_formula(grad, rank)),
                           value_formula(new, rank)], final=True))
    return steps


def view(options, work: Work) -> dict:
    result = work.results["update"]
    return {"lr": shown_given(result.eta, result.digits),
            "steps": printed_steps(result, work.trace, work.notation)}


def to_json(result: Update, ex: ExerciseDef) -> dict:
    return {"lr": number(result.eta), "params": {
                r.param: entry(r.new, ex.graph.nodes[r.param].rank, result.digits, False)
                for r in result.rows}}


def steps_json(result: Update, ex: ExerciseDef, trace: Trace, notation,
               latex: Callable[[Step], str]) -> list[dict]:
    """key.json `steps` (STEPS.md): one per parameter, θ_new = sub(θ, mul(η, ∂L/∂θ)) on the
    printed numbers; ``latex`` writes a printed Step as LaTeX (the typesetter's)."""
    out = []
    for r, step in zip(result.rows, printed_steps(result, trace, notation)):
        rank = ex.graph.nodes[r.param].rank
        old, eta, grad, new = (_leaf(a, rank) if not isinstance(a, str) else a
                               for a in result.shown(r))
        out.append({"target": f"update.{r.param}", "latex": latex(step),
                    "expr": {"op": "sub", "args": [old, {"op": "mul", "args": [eta, grad]}]},
                    "result": new})
    return out


def _leaf(strings: np.ndarray, rank: int):
    """A scalar as its string, anything else as a 2-D list of strings."""
    return str(strings.reshape(-1)[0]) if rank == 0 else np.atleast_2d(strings).tolist()


ASK = Ask(name="update", options=UpdateOptions, check=None, compute=compute, view=view,
          json=to_json, columns=loss_and_param_gradients, needs=("forward", "backward"),
          needs_params=True, numeric=True, given_values=True, architecture=True, design=None,
          computational_graph=None, steps=steps_json)

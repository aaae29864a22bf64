"""`update: {lr}`: one gradient-descent step θ_new = θ − η·∂L/∂θ for every parameter,
with the key's own gradients (rounded as the key rounds when the rule carries)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from exgen.asks.base import Ask, Strict, Work, entry, loss_and_param_gradients, number
from exgen.engine.rounding import round_array, shown_array, shown_given
from exgen.engine.solve import Trace
from exgen.typeset.formula import Script, Sym, Text
from exgen.typeset.steps import Step, leaf_of, step_entries, worked_step
from exgen.typeset.terms import Symbol, apply, leaf

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
    row_vectors: set[str]  # shown as rows, as everywhere else in the key

    def shown(self, r: UpdateRow) -> tuple[np.ndarray, str, np.ndarray, np.ndarray]:
        """θ, η, ∂L/∂θ and θ_new as the key prints them (strings with ASCII '-')."""
        turn = (lambda a: a.T) if r.param in self.row_vectors else (lambda a: a)
        return (
            turn(shown_array(r.old, self.digits, given=True)),
            shown_given(self.eta, self.digits),
            turn(shown_array(r.grad, self.digits)),
            turn(shown_array(r.new, self.digits)),
        )


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
    """θ_new = θ − η · ∂L/∂θ, with the numbers put in: one formula tree for the printed line
    and its key.json claim (brackets by precedence, e.g. 0.1 · (−0.39))."""
    steps = []
    layout = trace.graph.layout
    for r in result.rows:
        rank = trace.graph.nodes[r.param].rank
        old, eta, grad, new = result.shown(r)
        sym = notation.symbol(r.param)
        symbolic = apply(
            "sub",
            Symbol(sym, r.param, rank),
            apply(
                "mul",
                Symbol(Sym("η")),
                Symbol(notation.grad(r.param, trace.graph.loss), "", rank),
                style="scalar",
            ),
        )
        numeric = apply(
            "sub", leaf_of(old, rank), apply("mul", leaf(eta), leaf_of(grad, rank), style="scalar")
        )
        steps.append(
            worked_step(
                Script(sym, sup=Text("new")),
                symbolic,
                numeric,
                leaf_of(new, rank),
                f"update.{r.param}",
                layout,
                final=True,
            )
        )
    return steps


def view(options, work: Work) -> dict:
    result = work.results["update"]
    return {
        "lr": shown_given(result.eta, result.digits),
        "steps": printed_steps(result, work.trace, work.notation),
    }


def to_json(result: Update, ex: ExerciseDef) -> dict:
    return {
        "lr": number(result.eta),
        "params": {
            r.param: entry(r.new, ex.graph.nodes[r.param].rank, result.digits, False)
            for r in result.rows
        },
    }


def steps_json(result: Update, ex: ExerciseDef, trace: Trace, notation) -> list[dict]:
    """key.json `steps` (STEPS.md): one per parameter, from the printed lines themselves."""
    return [e for step in printed_steps(result, trace, notation) for e in step_entries(step)]


ASK = Ask(
    name="update",
    options=UpdateOptions,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=loss_and_param_gradients,
    needs=("forward", "backward"),
    needs_params=True,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=steps_json,
)

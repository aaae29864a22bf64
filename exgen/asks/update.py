"""`update: {lr, optimizer}`: one optimizer step for every parameter, with the key's own
gradients (rounded as the key rounds when the rule carries): plain gradient descent
θ_new = θ − η·∂L/∂θ (sgd, the default), momentum or Adam from the previous state given as
values (asks/optimizers.py names them: v_W1, m_W1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from exgen.asks.base import Ask, Strict, Work, cells, entry, loss_and_param_gradients, number
from exgen.asks.optimizers import ROLES, SGD, Optimizer, hyper, state_name, state_values, step
from exgen.asks.update_steps import printed_steps, state_symbol
from exgen.engine.rounding import shown_array, shown_given
from exgen.engine.solve import Trace
from exgen.language import N_
from exgen.typeset.formula import row
from exgen.typeset.steps import step_entries, value_formula

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


class UpdateOptions(Strict):
    lr: float = Field(gt=0, allow_inf_nan=False)
    optimizer: Optimizer = SGD


@dataclass
class UpdateRow:
    param: str
    old: np.ndarray
    grad: np.ndarray
    new: np.ndarray
    before: dict[str, np.ndarray] = field(default_factory=dict)  # the given state, by role
    after: dict[str, np.ndarray] = field(default_factory=dict)  # v, m, mhat, vhat


@dataclass
class Update:
    eta: Fraction | float
    rows: list[UpdateRow]
    digits: int
    row_vectors: set[str]  # shown as rows, as everywhere else in the key
    optimizer: Optimizer = SGD
    hyper: dict = field(default_factory=dict)  # η, β, … as the arithmetic uses them
    exact: bool = True

    def turned(self, param: str, arr: np.ndarray, given: bool = False) -> np.ndarray:
        """An array of ``param``'s shape as the key prints it (strings with ASCII '-')."""
        strings = shown_array(arr, self.digits, given=given)
        return strings.T if param in self.row_vectors else strings

    def hyper_text(self, name: str) -> str:
        """η, β, …, t as the sheet states them (ε = 10⁻⁸ as 1×10⁻⁸)."""
        return str(self.hyper[name]) if name == "t" else shown_given(self.hyper[name], self.digits)


def update(ex: ExerciseDef, trace: Trace, lr: float, optimizer: Optimizer = SGD) -> Update:
    """One optimizer step for every parameter, with the key's gradients."""
    h = hyper(optimizer, lr, trace.exact)
    exact = trace.exact and optimizer.name != "adam"
    carry = trace.rounding.digits if trace.rounding.carry else None
    rows = []
    for name in ex.graph.params:
        old, grad = trace.values[name], trace.grads[name]
        before = {
            role: np.asarray(ex.given[state_name(role, name)]).reshape(old.shape)
            for role in _roles(optimizer)
        }
        moved = step(optimizer, h, old, grad, before, carry, exact)
        rows.append(UpdateRow(name, old, grad, moved.new, before, moved.after))
    digits, rows_shown = trace.rounding.digits, trace.graph.row_vectors
    return Update(h["lr"], rows, digits, rows_shown, optimizer, h, exact)


def _roles(optimizer: Optimizer) -> tuple[str, ...]:
    return tuple(role for role, _what in ROLES[optimizer.name])


def compute(ex: ExerciseDef, trace: Trace, notation, options: UpdateOptions) -> Update:
    return update(ex, trace, options.lr, options.optimizer)


CONVENTION = {
    "momentum": N_(
        "follows PyTorch's convention (torch.optim.SGD with momentum β): "
        "v ← β v + ∂L/∂θ, then θ ← θ − η v (some texts write v ← β v + (1 − β) ∂L/∂θ, "
        "or v ← β v − η ∂L/∂θ and θ ← θ + v)"
    ),
    "adam": N_(
        "is torch.optim.Adam's, element-wise, with g = ∂L/∂θ: m ← β₁ m + (1 − β₁) g, "
        "v ← β₂ v + (1 − β₂) g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), θ ← θ − η m̂/(√v̂ + ε), "
        "t the number of this step"
    ),
}
HYPER_NAMES = {"lr": "η", "beta": "β", "beta1": "β₁", "beta2": "β₂", "eps": "ε", "t": "t"}


def view(options, work: Work) -> dict:
    result = work.results["update"]
    out = {
        "lr": shown_given(result.eta, result.digits),
        "steps": printed_steps(result, work.trace, work.notation),
        "optimizer": result.optimizer.name,
    }
    if result.optimizer.name == "sgd":
        return out  # the plain step's view, as before optimizers
    settings = ", ".join(
        f"{HYPER_NAMES[n]} = {result.hyper_text(n).replace('-', '−')}" for n in result.hyper
    )
    out.update(
        settings=settings,
        convention=CONVENTION[result.optimizer.name],
        arithmetic=(
            N_("exact arithmetic (fractions)")
            if result.exact
            else N_("computed in double precision (float64): the square root is not rational")
            if result.optimizer.name == "adam"
            else N_("computed in double precision (float64)")
        ),
        state=[
            row(
                state_symbol(role, work.notation.symbol(r.param), _rank(work, r.param)),
                "=",
                value_formula(
                    result.turned(r.param, r.before[role], given=True), _rank(work, r.param)
                ),
            )
            for r in result.rows
            for role in _roles(result.optimizer)
        ],
    )
    return out


def _rank(work: Work, param: str) -> int:
    return work.trace.graph.nodes[param].rank


def to_json(result: Update, ex: ExerciseDef) -> dict:
    def shaped(param: str, arr: np.ndarray, given: bool = False) -> dict:
        return entry(arr, ex.graph.nodes[param].rank, result.digits, given)

    out: dict = {"lr": number(result.eta)}
    if result.optimizer.name != "sgd":  # sgd's entry as before optimizers
        out = {
            "optimizer": result.optimizer.name,
            **{n: number(v) for n, v in result.hyper.items()},
        }
        out["arithmetic"] = N_("exact") if result.exact else "float64"
        out["previous"] = {
            state_name(role, r.param): shaped(r.param, arr, given=True)
            for r in result.rows
            for role, arr in r.before.items()
        }
        out["state"] = {
            state_name(role, r.param): shaped(r.param, arr)
            for r in result.rows
            for role, arr in r.after.items()
        }
    out["params"] = {r.param: shaped(r.param, r.new) for r in result.rows}
    return out


def columns(ex_id: str, ex: dict) -> dict[str, str]:
    """answers.csv: the loss and the gradients, then each new parameter and state value."""
    row = loss_and_param_gradients(ex_id, ex)
    found = ex.get("asks", {}).get("update", {})
    for table in ("params", "state"):
        for name, value in found.get(table, {}).items():
            for index, text in cells(value["shown"]):
                row[f"{ex_id} {name}{index} new"] = text
    return row


def steps_json(result: Update, ex: ExerciseDef, trace: Trace, notation) -> list[dict]:
    """key.json `steps` (STEPS.md): each printed line's claim, from the lines themselves."""
    return [e for step in printed_steps(result, trace, notation) for e in step_entries(step)]


ASK = Ask(
    name="update",
    options=UpdateOptions,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=columns,
    needs=("forward", "backward"),
    needs_params=True,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=steps_json,
    state=lambda options, params: state_values(options.optimizer, params),
)

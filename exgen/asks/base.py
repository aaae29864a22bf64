"""What an ask is made of: the parts every ask module declares (no part has a default, so
a module that forgets one fails where it is registered), and the work its view is made from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exgen.engine.rounding import shown_array
from exgen.engine.solve import Trace
from exgen.typeset.notation import Notation
from exgen.typeset.steps import Solution, Step, solution, step_entries

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef
    from exgen.engine.graph import Graph


Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)]


class Strict(BaseModel):
    """An ask's options: unknown keys refused, frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignedNetwork(Protocol):
    """A network an ask designs itself (the `logic` ask): the definition gives no network
    and no values; the network is the answer, solved forward only (it has no loss to learn)."""

    equations: list[str]
    values: dict[str, np.ndarray]
    loss: str

    def verify(self, trace: Trace) -> tuple[str, bool, str]:
        """(oracle, ok, what was found): the design run on its test points."""


@dataclass(frozen=True)
class Ask:
    """One ask. Each part is given explicitly; ``None`` says "this ask has none"."""

    name: str
    options: type[BaseModel] | None  # None: no options; a RootModel's value is read plainly
    check: Callable[[Graph, Any, str], None] | None  # against the network, at load
    compute: Callable[[ExerciseDef, Trace, Notation, Any], Any] | None  # its result
    view: Callable[[Any, Work], Any]  # what its two templates see as ask.view
    json: Callable[[Any, ExerciseDef], dict] | None  # key.json asks.<name>
    columns: Callable[[str, dict], dict[str, str]] | None  # answers.csv, from key.json
    needs: tuple[str, ...]  # asks whose work this one builds on, shown before it
    needs_params: bool  # works on network.params (refused without them)
    numeric: bool  # the student computes numbers: the rounding hint
    given_values: bool  # shows the given values
    architecture: bool  # shows the network's figure
    design: Callable[[Any, str], DesignedNetwork] | None  # designs the network itself
    computational_graph: bool | None  # draws the graph: False forward, True with ∂ nodes
    steps: Callable[[Any, ExerciseDef, Trace, Notation], list[dict]] | None  # key.json
    # given values the ask reads beyond the network's (an optimizer's previous state):
    # (options, params) → {value name: (its parameter, what it is, whether it is ≥ 0)},
    # e.g. {"v_W1": ("W1", "the velocity of W1", False)}
    state: Callable[[Any, tuple[str, ...]], dict[str, tuple[str, str, bool]]] | None

    @property
    def templates(self) -> tuple[str, str]:
        return f"partials/task_{self.name}.html", f"partials/key_{self.name}.html"


@dataclass
class Work:
    """What an ask's view is made from: the exercise, its trace and notation, the results
    of all its asks, the asks shown (with what they need) and the figure drawer of the
    render stage (which sits above the asks)."""

    ex: ExerciseDef
    trace: Trace
    notation: Notation
    results: dict
    asks: list[tuple[str, Any]]
    graph_figure: Callable[[bool], tuple[str, str]]

    @cached_property
    def solution(self) -> Solution:
        """The forward and backward steps, shared by the asks that show them."""
        return solution(self.trace, self.notation, self.asks)


# the forward pass, for an ask whose numbers rest on it ------------------------------
PASSES = ("forward", "backward", "gradients")  # the asks whose key prints the forward pass


def printed_forward(trace: Trace, notation: Notation, asks) -> list[Step]:
    """The forward pass worked out, for an ask whose numbers use its values (p of a
    softmax, tanh(z) in a chain rule), unless the key prints it already."""
    if any(name in PASSES for name, _ in asks):
        return []
    return solution(trace, notation, [("forward", None)]).forward


def forward_steps_json(result, ex: ExerciseDef, trace: Trace, notation: Notation) -> list[dict]:
    """key.json `steps` (STEPS.md) of the forward lines ``printed_forward`` adds."""
    return [e for step in printed_forward(trace, notation, ex.asks) for e in step_entries(step)]


# key.json values ---------------------------------------------------------------------


def nested(arr: np.ndarray, rank: int):
    """A 2-D array as JSON: a number (rank 0), a flat list (rank 1) or rows (rank 2)."""
    if rank == 0:
        return arr.reshape(-1)[0]
    if rank == 1:
        return arr.reshape(-1).tolist()
    return arr.tolist()


def number(x):
    """A number as JSON: a whole Fraction as an int, any other as a float."""
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else float(x)
    return float(x) if not isinstance(x, (int, np.integer)) else int(x)


def entry(arr: np.ndarray, rank: int, digits: int, given: bool) -> dict:
    """{"value": full precision, "shown": the strings the key prints}, shaped like the node."""
    values = np.vectorize(number, otypes=[object])(arr) if arr.size else arr
    return {"value": nested(values, rank), "shown": nested(shown_array(arr, digits, given), rank)}


# answers.csv ----------------------------------------------------------------------------


def value_column(ex_id: str, node: str, index: str = "") -> str:
    """The column of one entry of a node's value in answers.csv, answer-form.csv and
    grades (``q1 L``, ``q1 z1[2]``); ``index`` as ``cells`` gives it."""
    return f"{ex_id} {node}{index}"


def scaled_column(column: str, power: int) -> str:
    """A collected column whose number is given × 10^power (``q1 dL/dW1[1,2] ×10^3``)."""
    return f"{column} ×10^{power}"


def grad_column(ex_id: str, loss: str, node: str, index: str = "") -> str:
    """The column of one entry of a gradient (``q1 dL/dW1[1,2]``)."""
    return f"{ex_id} d{loss}/d{node}{index}"


def loss_and_param_gradients(ex_id: str, ex: dict) -> dict[str, str]:
    """The final answers of a key.json exercise: its loss and its parameter gradients."""
    row: dict[str, str] = {}
    if "loss" not in ex or not ex["grads"]:
        return row
    row[value_column(ex_id, ex["loss"])] = ex["values"][ex["loss"]]["shown"]
    for p in ex["params"]:
        for index, text in cells(ex["grads"][p]["shown"]):
            row[grad_column(ex_id, ex["loss"], p, index)] = text
    return row


def cells(value, prefix=()):
    if isinstance(value, list):
        for i, item in enumerate(value, start=1):
            yield from cells(item, prefix + (i,))
    else:
        yield ("[" + ",".join(map(str, prefix)) + "]" if prefix else ""), value

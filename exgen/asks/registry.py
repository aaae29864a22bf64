"""Every ask, registered once, in the order the README lists them. Everything else —
the definition's vocabulary and validation, the results, the views, key.json's `asks`,
answers.csv — iterates this table."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from exgen.asks import (
    backward,
    computational_graph,
    forward,
    gradients,
    hessian,
    logic,
    numeric_check,
    output_shapes,
    param_count,
    pytorch,
    softmax_ce,
    symbolic,
    update,
)
from exgen.asks.base import Ask, Work
from exgen.errors import DefinitionError

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef
    from exgen.engine.graph import Graph
    from exgen.engine.solve import Trace
    from exgen.typeset.notation import Notation

ASKS: dict[str, Ask] = {
    a.name: a
    for a in (
        forward.ASK,
        backward.ASK,
        gradients.ASK,
        numeric_check.ASK,
        computational_graph.GRAPH,
        computational_graph.GRAPH_BACKWARD,
        output_shapes.ASK,
        param_count.ASK,
        update.ASK,
        hessian.ASK,
        symbolic.ASK,
        softmax_ce.ASK,
        logic.ASK,
        pytorch.ASK,
    )
}


def check(graph: Graph, index: int, name: str, options) -> None:
    """The exercise's ask number ``index`` against its compiled network."""
    ask = ASKS[name]
    if ask.needs_params and not graph.params:
        raise DefinitionError(
            f"{name} needs the parameters: add network.params: [{', '.join(likely_params(graph))}]",
            path=f"ask[{index}]",
        )
    if ask.check is not None:
        ask.check(graph, options, f"ask[{index}].{name}")


def state_values(asks: list[tuple[str, object]], params) -> dict[str, tuple]:
    """The given values the asks read beyond the network (an optimizer's previous state):
    name → (the ask's index, its parameter, what it is, whether it is ≥ 0). No equation
    uses them."""
    out: dict[str, tuple] = {}
    for k, (name, options) in enumerate(asks):
        part = ASKS[name].state
        if part is not None:
            out.update((n, (k, *about)) for n, about in part(options, tuple(params)).items())
    return out


def check_state(asks: list[tuple[str, object]], state: dict, given) -> None:
    """Every state value given (never silently zeros), shaped like its parameter."""
    missing = [n for n in state if n not in given]
    if missing:
        k = state[missing[0]][0]
        name = asks[k][0]
        listed = ", ".join(f"{n} ({state[n][2]})" for n in missing if state[n][0] == k)
        raise DefinitionError(
            f"{name} needs the optimizer's previous state under values: add {listed}; "
            f"give zeros for a first step",
            path=f"ask[{k}].{name}",
        )
    for n, (_k, param, what, non_negative) in state.items():
        if np.shape(given[n]) != np.shape(given[param]):
            raise DefinitionError(
                f"'{n}' ({what}) must be shaped like {param}: {_shape(given[param])}, "
                f"found {_shape(given[n])}",
                path=f"values.{n}",
            )
        below = np.argwhere(np.asarray(given[n]) < 0)
        if non_negative and below.size:
            at = below[0]
            where = f" at [{', '.join(map(str, at))}]" if at.size else ""
            raise DefinitionError(
                f"'{n}' ({what}) is a mean of squares and cannot be negative: "
                f"found {float(np.asarray(given[n])[tuple(at)]):g}{where}",
                path=f"values.{n}",
            )


def _shape(value) -> str:
    shape = np.shape(value)
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of length {shape[0]}"
    return f"a {shape[0]}×{shape[1]} matrix"


def likely_params(graph: Graph) -> list[str]:
    """The given values the loss depends on that are named like weights and biases
    (W1, b2, w13, theta); all of them when none is."""
    given = [
        n
        for n in graph.nodes
        if graph.nodes[n].kind == "given" and n in graph.ancestors(graph.loss)
    ]
    return [n for n in given if re.match(r"^([WwBb]\d|[WwBb]$|[Ww]_|theta)", n)] or given


def designer(names: list[str]) -> str | None:
    """The ask that designs the exercise's network itself, if one does."""
    return next((n for n in names if ASKS[n].design is not None), None)


def shown(asks: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The asks as the documents show them: each preceded by the asks whose work it
    builds on (an update needs the forward and backward passes), unless already asked."""
    names = {a for a, _ in asks}
    out: list[tuple[str, object]] = []

    def add(name: str, options) -> None:
        for need in ASKS[name].needs:
            if need not in names:
                names.add(need)
                add(need, None)
        out.append((name, options))

    for name, options in asks:
        add(name, options)
    return out


def results_for(ex: ExerciseDef, trace: Trace, notation: Notation) -> dict:
    """Every ask's result, computed before anything is written."""
    return {
        name: ASKS[name].compute(ex, trace, notation, options)
        for name, options in ex.asks
        if ASKS[name].compute is not None
    }


def views(
    ex: ExerciseDef,
    trace: Trace,
    notation: Notation,
    results: dict,
    graph_figure: Callable[[bool], tuple[str, str]],
) -> list[dict]:
    """Each shown ask as its templates see it: name, options, view."""
    asks = shown(ex.asks)
    work = Work(ex, trace, notation, results, asks, graph_figure)
    return [
        {"name": name, "options": options, "view": ASKS[name].view(options, work)}
        for name, options in asks
    ]


def asks_json(ex: ExerciseDef, results: dict) -> dict:
    """key.json `asks`: what the asks found, for machines (graders' scripts, `exgen check`);
    only what ``results`` holds (a stress run computes none)."""
    return {
        name: ASKS[name].json(results[name], ex)
        for name, _ in ex.asks
        if ASKS[name].json is not None and name in results
    }


def steps_json(ex: ExerciseDef, trace: Trace, notation: Notation, results: dict) -> list[dict]:
    """key.json `steps` of the asks that print steps of their own (after the forward and
    backward passes, in the order the key prints them); only those ``results`` holds (a
    stress run computes none)."""
    out: list[dict] = []
    for name, _ in ex.asks:
        ask = ASKS[name]
        if ask.steps is not None and name in results:
            out += ask.steps(results[name], ex, trace, notation)
    return out


def answer_columns(key: dict) -> dict[str, str]:
    """answers.csv: each exercise's final answers, as its asks name them in key.json."""
    row: dict[str, str] = {}
    for ex_id, ex in key["exercises"].items():
        row.update(exercise_answer_columns(ex_id, ex))
    return row


def exercise_answer_columns(ex_id: str, ex: dict) -> dict[str, str]:
    """One key.json exercise's part of answers.csv."""
    row: dict[str, str] = {}
    for name in ex["asked"]:
        columns = ASKS[name].columns
        if columns is not None:
            row.update(columns(ex_id, ex))
    return row

"""What students hand in: the collected numbers of each exercise (`collect:` in the
definition, by default its answers.csv columns), one record per column, with the graph
node each stands for — answer-form.csv's header and what grading compares."""

from __future__ import annotations

from dataclasses import dataclass

from exgen.asks.base import cells, grad_column, value_column
from exgen.asks.registry import exercise_answer_columns

GRADS = "grads"  # every parameter gradient
GRAD_PREFIX = "grad."  # grad.NAME: the gradient of one node


@dataclass(frozen=True)
class Collected:
    """One collected number of one exercise."""

    column: str  # as in answers.csv and answer-form.csv
    shown: str  # the key's shown value
    node: str | None  # the graph node it is an entry of; None: an ask's own answer
    grad: bool  # the node's gradient rather than its value
    flat: int  # the entry's place in the node's array (C order)
    items: tuple[str, ...]  # the collect entries it comes from (what weights may name)


def collected(ex_id: str, ex: dict, collect: list[str] | None) -> list[Collected]:
    """The collected numbers of one key.json exercise (``collect`` None: its answers.csv
    columns, those of the loss and the gradients tied to their nodes)."""
    if collect is not None:
        return [c for item in collect for c in _item(ex_id, ex, item)]
    nodes: dict[str, Collected] = {}
    if "loss" in ex and ex["grads"]:
        nodes = {c.column: c for item in (ex["loss"], GRADS) for c in _item(ex_id, ex, item)}
    return [
        nodes.get(column) or Collected(column, text, None, False, 0, (column,))
        for column, text in exercise_answer_columns(ex_id, ex).items()
    ]


def _item(ex_id: str, ex: dict, item: str) -> list[Collected]:
    if item == GRADS:
        return [
            c for p in ex["params"] for c in _node(ex_id, ex, p, True, (GRADS, GRAD_PREFIX + p))
        ]
    if item.startswith(GRAD_PREFIX):
        return _node(ex_id, ex, item[len(GRAD_PREFIX) :], True, (item,))
    return _node(ex_id, ex, item, False, (item,))


def _node(ex_id: str, ex: dict, node: str, grad: bool, items: tuple[str, ...]) -> list[Collected]:
    table = ex["grads"] if grad else ex["values"]
    out = []
    for flat, (index, text) in enumerate(cells(table[node]["shown"])):
        column = (
            grad_column(ex_id, ex["loss"], node, index)
            if grad
            else value_column(ex_id, node, index)
        )
        out.append(Collected(column, text, node, grad, flat, items))
    return out


def form_columns(key: dict, collect: dict[str, list[str] | None]) -> dict[str, str]:
    """Every exercise's collected numbers of one key (column -> the key's shown value);
    ``collect``: exercise id -> its `collect:` list."""
    return {
        c.column: c.shown
        for ex_id, ex in key["exercises"].items()
        for c in collected(ex_id, ex, collect[ex_id])
    }

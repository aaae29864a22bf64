"""What students hand in: the collected numbers of each exercise (`collect:` in the
definition, by default its answers.csv columns), one record per column, with the graph
node each stands for — answer-form.csv's header and what grading compares."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from exgen.asks.base import cells, grad_column, scaled_column, value_column
from exgen.asks.registry import exercise_answer_columns
from exgen.engine.rounding import scaled_shown

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
    scale: int = 0  # given × 10^scale (`scale:`); column and shown say so already


class CollectSpec(Protocol):
    """What of an exercise's definition decides its collected numbers."""

    collect: list[str] | None
    scale: dict[str, int] | None


def collected(ex_id: str, ex: dict, spec: CollectSpec) -> list[Collected]:
    """The collected numbers of one key.json exercise, scaled where ``spec.scale`` says."""
    out = _collected(ex_id, ex, spec.collect)
    if not spec.scale:
        return out
    scale = spec.scale
    for k, c in enumerate(out):
        power = next((scale[i] for i in c.items if i in scale), 0)
        if power:
            column, shown = scaled_column(c.column, power), scaled_shown(c.shown, power)
            out[k] = replace(c, column=column, shown=shown, scale=power)
    return out


def _collected(ex_id: str, ex: dict, collect: list[str] | None) -> list[Collected]:
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


def form_columns(key: dict, specs: dict[str, CollectSpec]) -> dict[str, str]:
    """Every exercise's collected numbers of one key (column -> the key's shown value);
    ``specs``: exercise id -> its definition."""
    return {
        c.column: c.shown
        for ex_id, ex in key["exercises"].items()
        for c in collected(ex_id, ex, specs[ex_id])
    }

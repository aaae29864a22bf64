"""`symbolic`: ∂(of)/∂(wrt) for a network of named scalars, as a sum over paths of
products of local derivatives, factored the way backpropagation groups it, and
evaluated (seed 004, Ex 2: ∂y/∂w13 in a tanh network)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exgen.engine.graph import Graph
from exgen.engine.rounding import shown
from exgen.engine.solve import Trace
from exgen.typeset.evaluate import evaluate as value_of
from exgen.typeset.evaluate import simplified
from exgen.typeset.formula import Num, Paren, Row, Text, joined
from exgen.typeset.notation import Notation
from exgen.typeset.terms import Leaf, apply, leaf

ONE = (Num("1"), 1)
PROBE = np.array([[-1.5], [0.5], [2.0]])  # where a derivative that is always 0 shows it


@dataclass
class Expansion:
    paths: list[list[tuple]]  # each path: its local factors (formula, value)
    factored: object  # a tree of ("sum"|"prod", [children]) and factors
    value: float
    path_names: list[list[str]] = field(default_factory=list)


def local_factor(graph: Graph, trace: Trace, notation: Notation, consumer: str, node: str):
    """∂consumer/∂node as (formula, value), from the consumer's operation (its local
    derivative, or its adjoint with a gradient of 1); None where it is always 0 (step)."""
    c = graph.nodes[consumer]
    op = c.op
    env = {i: np.array(trace.values[i], dtype=float) for i in c.inputs}
    args = tuple(notation.node_term(i) for i in c.inputs)
    ctx = notation.context(
        [graph.nodes[i].rank for i in c.inputs], c.rank, numeric=True, shape=(1, 1), count=1
    )
    if op.elementwise_local:
        if not np.any(op.local(PROBE, op.forward(PROBE))):
            return None
        x = env[c.inputs[0]]
        value = float(op.local(x, op.forward(x))[0, 0])
        term = op.local_formula(args[0], apply(op.name, args[0]), ctx)
    else:
        term = simplified(
            op.adjoint(c.inputs.index(node), leaf("1"), args, notation.node_term(consumer), ctx)
        )
        value = float(value_of(term, env)[0, 0])
    formula = notation.spell(term)
    if isinstance(formula, Row):  # a factor in a product: (1 − tanh(z)²)
        formula = Paren(formula)
    if isinstance(term, Leaf) and term.scalar == "1":
        return ONE
    return formula, value


def expand(graph: Graph, trace: Trace, notation: Notation, of: str, wrt: str) -> Expansion:
    on_path = set(graph.between({wrt}, of))
    memo: dict[str, object] = {}

    def factored(n: str):
        if n == of:
            return ONE
        if n not in memo:
            terms = []
            for c in graph.consumers(n):
                if c not in on_path:
                    continue
                f = local_factor(graph, trace, notation, c, n)
                if f is None:
                    continue
                terms.append(_prod([f, factored(c)]))
            memo[n] = _sum(terms)
        return memo[n]

    paths, names = [], []

    def walk(n: str, factors: list, trail: list):
        if n == of:
            paths.append([f for f in factors if f is not ONE] or [ONE])
            names.append(trail)
            return
        for c in graph.consumers(n):
            if c in on_path:
                f = local_factor(graph, trace, notation, c, n)
                if f is not None:
                    walk(c, factors + [f], trail + [c])

    walk(wrt, [], [wrt])
    tree = factored(wrt)
    return Expansion(paths, tree, float(evaluate(tree)), names)


def _prod(items):
    flat = []
    for item in items:
        if item is ONE:
            continue
        if isinstance(item, tuple) and item and item[0] == "prod":
            flat += item[1]
        else:
            flat.append(item)
    return ONE if not flat else flat[0] if len(flat) == 1 else ("prod", flat)


def _sum(items):
    items = [i for i in items if i is not None]
    if not items:
        return (Num("0"), 0)
    return items[0] if len(items) == 1 else ("sum", items)


def evaluate(tree):
    if tree[0] == "prod":
        out = 1
        for t in tree[1]:
            out = out * evaluate(t)
        return out
    if tree[0] == "sum":
        return sum(evaluate(t) for t in tree[1])
    return tree[1]


def formula(tree, digits: int, numbers: bool, inner: bool = False):
    """The tree as a formula, in symbols or with the numbers put in."""
    if tree[0] == "prod":
        parts = [formula(t, digits, numbers, inner=True) for t in tree[1]]
        return joined(parts, "·") if numbers else Row(tuple(_spaced(parts)))
    if tree[0] == "sum":
        body = joined([formula(t, digits, numbers) for t in tree[1]], "+")
        return Paren(body, "[", "]") if inner else body
    f, value = tree
    if numbers:
        text = shown(value, digits).replace("-", "−")
        return Num(text) if not text.startswith("−") else Paren(Num(text))
    return f


def path_formula(path, digits: int, numbers: bool):
    if numbers:
        return joined([formula(f, digits, True) for f in path], "·")
    return Row(tuple(_spaced([f for f, _ in path])))


def _spaced(parts):
    out = []
    for i, p in enumerate(parts):
        if i:
            out.append(Text("\u2009"))
        out.append(p)
    return out

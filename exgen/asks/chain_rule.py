"""`symbolic`: ∂(of)/∂(wrt) for a network of named scalars, as a sum over paths of
products of local derivatives, factored the way backpropagation groups it, and
evaluated (seed 004, Ex 2: ∂y/∂w13 in a tanh network)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from exgen.engine.solve import Trace
from exgen.typeset.formula import Num, Paren, Row, Script, Text, joined, row
from exgen.engine.graph import Graph
from exgen.engine.rounding import shown
from exgen.typeset.notation import FUNCTION_NAMES, Notation

ONE = (Num("1"), 1)


@dataclass
class Expansion:
    paths: list[list[tuple]]          # each path: its local factors (formula, value)
    factored: object                  # a tree of ("sum"|"prod", [children]) and factors
    value: float
    path_names: list[list[str]] = field(default_factory=list)


def local_factor(graph: Graph, trace: Trace, notation: Notation, consumer: str, node: str):
    """∂consumer/∂node as (formula, value); None where it is always 0 (step)."""
    c = graph.nodes[consumer]
    op = c.op.name
    values = trace.values
    val = {i: values[i][0, 0] for i in c.inputs}
    sym = notation.node
    others = [i for i in c.inputs if i != node]
    if op in ("add", "identity", "sum", "mean") or (op == "sub" and c.inputs[0] == node):
        return ONE
    if op in ("sub", "neg"):
        return (Num("−1"), -1)
    if op in ("mul", "matmul"):
        other = others[0] if others else node
        return (sym(other), val[other])
    if op == "div":
        a, b = c.inputs
        if node == a:
            return (row(Num("1"), Text("/"), _wrap(sym(b))), 1 / val[b])
        return (row("−", _wrap(sym(a)), Text("/"), Script(_wrap(sym(b)), sup=Num("2"))),
                -val[a] / val[b] ** 2)
    if op == "pow":
        k = c.op.exponent
        power = Script(_wrap(sym(node)), sup=Num(str(k - 1))) if k != 2 else _wrap(sym(node))
        return (row(Num(str(k)), power), k * val[node] ** (k - 1))
    x = float(val[node])
    arg = sym(node)
    if op == "tanh":
        return (Paren(row(Num("1"), "−", Row((Script(Text("tanh"), sup=Num("2")), Paren(arg))))),
                1 - math.tanh(x) ** 2)
    if op == "sigmoid":
        s = 1 / (1 + math.exp(-x))
        f = Row((Text("σ"), Paren(arg)))
        return (row(f, Paren(row(Num("1"), "−", f))), s * (1 - s))
    if op == "relu":
        return (Row((Text("ReLU′"), Paren(arg))), 1 if x > 0 else 0)
    if op == "exp":
        return (Row((Text("exp"), Paren(arg))), math.exp(x))
    if op == "log":
        return (row(Num("1"), Text("/"), _wrap(arg)), 1 / x)
    if op == "step":
        return None
    if op == "transpose":
        return ONE
    raise ValueError(f"no scalar local derivative for {FUNCTION_NAMES.get(op, op)}")


def _wrap(f):
    return f if isinstance(f, (Num, Paren)) or getattr(f, "kind", "") == "sym" else Paren(f)


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

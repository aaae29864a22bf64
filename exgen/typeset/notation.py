"""How names and expressions are written: the sheet's notation applied to the graph."""

from __future__ import annotations

import re

from exgen.engine.equations import Expr
from exgen.engine.graph import Graph, op_of
from exgen.typeset.formula import Frac, Num, Paren, Row, Script, Sym, Text, row
from exgen.typeset.spell import spell
from exgen.typeset.terms import Context, Symbol, leaf

GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "omega": "ω",
    "Delta": "Δ",
    "Sigma": "Σ",
    "Omega": "Ω",
}


def index(text: str):
    """An index as it is set, by the one convention of the key: a variable (i, j, k, n,
    each letter of "in") in italics, a number (1, 12) and a label ("out") upright;
    "j≠i" and "1,1" keep their signs upright."""
    if re.fullmatch(r"[A-Za-z]{3,}", text):  # a label such as "out", not three indices
        return Text(text)
    parts = re.findall(r"[A-Za-zα-ω]|\d+|[^A-Za-zα-ω\d]+", text)
    items = [Sym(p) if p.isalpha() else Num(p) if p.isdigit() else Text(p) for p in parts]
    return items[0] if len(items) == 1 else Row(tuple(items))


def indexed(base, sub: str = "", sup=None):
    """``base`` with the index ``sub`` set by the convention of ``index``; a plain letter
    base is a variable (italic)."""
    if isinstance(base, str):
        base = Sym(base)
    return Script(base, sup=sup, sub=index(sub) if sub else None)


class Notation:
    """Writes node names as symbols: u1 → u₁ (or u⁽¹⁾), yhat → ŷ, bold for arrays;
    expressions as term trees (``*_term``) or spelled as formulas."""

    def __init__(self, graph: Graph, index: str = "sub", errors: str = "partial"):
        self.graph = graph
        self.index = index
        self.errors = errors
        self._cache: dict[str, Sym] = {}

    @classmethod
    def of(cls, graph: Graph, spec) -> Notation:
        """The notation a sheet's profile (schema.NotationSpec) asks for."""
        return cls(graph, spec.index, spec.errors)

    def symbol(self, name: str) -> Sym:
        if name not in self._cache:
            node = self.graph.nodes.get(name)
            rank = node.rank if node is not None else 0
            self._cache[name] = name_symbol(name, rank, self.index)
        return self._cache[name]

    def symbol_term(self, name: str) -> Symbol:
        node = self.graph.nodes.get(name)
        return Symbol(self.symbol(name), name, node.rank if node is not None else 0)

    def spell(self, term):
        return spell(term, self.graph.layout)

    def context(self, ranks, out_rank: int = 0, **extra) -> Context:
        return Context(tuple(ranks), out_rank, self.graph.layout, extra)

    def expr_term(self, expr: Expr):
        """The symbolic form of an expression as a term."""
        if expr.op == "name":
            return self.symbol_term(expr.name)
        if expr.op == "const":
            return leaf(expr.text)
        op = op_of(expr, self.graph.layout)
        operands = expr.args[:1] if expr.op == "pow" else expr.args
        args = tuple(self.expr_term(a) for a in operands)
        ctx = self.context([self.rank(a) for a in expr.args[: len(args)]])
        return op.substituted(args, ctx)

    def expr(self, expr: Expr):
        """The symbolic form of an expression, bracketed where precedence needs it."""
        return self.spell(self.expr_term(expr))

    def rank(self, expr: Expr) -> int:
        if expr.op == "const":
            return 0
        node = self.graph.nodes.get(expr.name if expr.op == "name" else expr.text)
        return node.rank if node is not None else 0

    def node_term(self, name: str):
        """A node as written: its symbol if given or named, else its expression."""
        node = self.graph.nodes[name]
        if node.kind == "const":
            return leaf(name)
        if node.kind != "op" or node.named:
            return self.symbol_term(name)
        return self.expr_term(node.expr)

    def node(self, name: str):
        return self.spell(self.node_term(name))

    def grad(self, name: str, loss: str):
        """∂L/∂n as a stacked fraction; a named node's error signal as δ with its symbol
        as the index when the profile says so. Unnamed sub-expressions and parameters
        keep ∂L/∂(…): an index such as δ₋∑(y⊙log p) would be unreadable."""
        node = self.graph.nodes[name]
        if self.errors == "delta" and node.kind == "op" and node.named:
            return Script(Text("δ"), sub=self.symbol(name))
        term = self.node_term(name)
        written = self.spell(term)
        if isinstance(written, Row):  # a sum, product, … : ∂L/∂(y − ŷ)
            written = Paren(written)
        return Frac(row(Text("∂"), self.symbol(loss)), row(Text("∂"), written))

    def grad_term(self, name: str, loss: str) -> Symbol:
        node = self.graph.nodes[name]
        return Symbol(self.grad(name, loss), name, node.rank)


def name_symbol(name: str, rank: int, index: str = "sub") -> Sym:
    bold = rank > 0
    hat = False
    base, sub = name, ""
    m = re.fullmatch(r"([A-Za-z]+?)_?(hat)", name)
    if m and m.group(1):
        base, hat = m.group(1), True
    if "_" in base:
        base, sub = base.split("_", 1)
    else:
        m = re.fullmatch(r"([A-Za-z]+?)(\d+)", base)
        if m:
            base, sub = m.group(1), m.group(2)
    if base in GREEK:
        return Sym(
            GREEK[base],
            sub=sub if index == "sub" else "",
            sup=f"({sub})" if index == "sup" and sub else "",
            bold=bold,
        )
    upright = len(base) > 1
    if index == "sup" and sub.isdigit():
        return Sym(base, sup=f"({sub})", bold=bold, upright=upright, hat=hat)
    return Sym(base, sub=sub, bold=bold, upright=upright, hat=hat)

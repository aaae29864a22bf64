"""How names and expressions are written: the sheet's notation applied to the graph."""
from __future__ import annotations

import re

from exgen.engine.equations import Expr
from exgen.typeset.formula import Frac, Func, Num, Paren, Row, Script, Sym, Text, row
from exgen.engine.graph import Graph

GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
         "theta": "θ", "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "phi": "φ",
         "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "Omega": "Ω"}
FUNCTION_NAMES = {"relu": "ReLU", "sigmoid": "σ", "tanh": "tanh", "exp": "exp", "log": "log",
                  "step": "step", "identity": "id", "softmax": "softmax", "sum": "∑",
                  "mean": "mean"}
PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}


class Notation:
    """Writes node names as symbols: u1 → u₁ (or u⁽¹⁾), yhat → ŷ, bold for arrays."""

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

    def expr(self, expr: Expr, outer: int = 0):
        """The symbolic form of an expression, parenthesised where precedence needs it."""
        op = expr.op
        if op == "name":
            return self.symbol(expr.name)
        if op == "const":
            return Num(_const_text(expr))
        prec = PRECEDENCE.get(op, 5)
        if op in ("add", "sub"):
            left = self.expr(expr.args[0], 1)
            right = self.expr(expr.args[1], 2 if op == "sub" else 1)
            out = row(left, "+" if op == "add" else "−", right)
        elif op == "mul":
            a, b = expr.args
            scalar = self.rank(a) == 0 or self.rank(b) == 0
            out = row(self.expr(a, 2), "·" if scalar else "⊙", self.expr(b, 3))
        elif op == "div":
            out = Frac(self.expr(expr.args[0]), self.expr(expr.args[1]))
            prec = 5
        elif op == "matmul":
            out = Row((self.expr(expr.args[0], 2), Text("\u2009"), self.expr(expr.args[1], 3)))
        elif op == "neg":
            out = row("−", self.expr(expr.args[0], 3))
        elif op == "pow":
            out = Script(self.expr(expr.args[0], 5), sup=Num(_const_text(expr.args[1])))
        elif op == "transpose":
            out = Script(self.expr(expr.args[0], 5), sup=Text("T"))
        else:
            out = Func(FUNCTION_NAMES[op], self.expr(expr.args[0]))
        return Paren(out) if prec < outer else out

    def rank(self, expr: Expr) -> int:
        node = self.graph.nodes.get(expr.name if expr.op == "name" else expr.text)
        return node.rank if node is not None else 0

    def node(self, name: str):
        """A node as written: its symbol if named, else its expression."""
        node = self.graph.nodes[name]
        if node.kind != "op" or node.named:
            return self.symbol(name) if node.kind != "const" else Num(name)
        return self.expr(node.expr)

    def grad(self, name: str, loss: str):
        """∂L/∂n as a stacked fraction; an error signal as δ with the node as its index
        when the profile says so (parameter gradients stay ∂L/∂W)."""
        if self.errors == "delta" and self.graph.nodes[name].kind == "op":
            return Script(Text("δ"), sub=self.node(name))
        node = self.node(name)
        if isinstance(node, Row):
            node = Paren(node)
        return Frac(row(Text("∂"), self.symbol(loss)), row(Text("∂"), node))


def _const_text(expr: Expr) -> str:
    text = expr.text
    return text.replace("-", "−")


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
        return Sym(GREEK[base], sub=sub if index == "sub" else "",
                   sup=f"({sub})" if index == "sup" and sub else "", bold=bold)
    upright = len(base) > 1
    if index == "sup" and sub.isdigit():
        return Sym(base, sup=f"({sub})", bold=bold, upright=upright, hat=hat)
    return Sym(base, sub=sub, bold=bold, upright=upright, hat=hat)


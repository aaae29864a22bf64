"""The forward pass as steps: each node's formula in symbols, with the printed numbers
put in, and its value; one component worked out as an example."""

from __future__ import annotations

import numpy as np

from exgen.engine.rounding import shown, shown_array
from exgen.engine.solve import Trace
from exgen.typeset.formula import Num, Paren, Row, Script, joined, row
from exgen.typeset.notation import Notation
from exgen.typeset.spell import minus
from exgen.typeset.steps import EG, Step, leaf_of, worked_step
from exgen.typeset.terms import Leaf, leaf


class Writer:
    """Writes one exercise's trace as steps."""

    def __init__(self, trace: Trace, notation: Notation):
        self.trace, self.n = trace, notation
        self.graph = trace.graph
        self.digits = trace.rounding.digits
        self.rows = trace.graph.row_vectors

    # values as terms and formulas --------------------------------------------
    def shown(self, name: str) -> np.ndarray:
        node = self.graph.nodes[name]
        return shown_array(self.trace.values[name], self.digits, given=node.kind != "op")

    def _oriented(self, name: str, strings: np.ndarray) -> np.ndarray:
        return strings.T if name in self.rows else strings

    def leaf(self, name: str) -> Leaf:
        """A node's value as printed (constants as written in the equation)."""
        node = self.graph.nodes[name]
        if node.kind == "const":
            return leaf(name)
        return leaf_of(self._oriented(name, self.shown(name)), node.rank)

    def grad_leaf(self, name: str) -> Leaf:
        strings = shown_array(self.trace.grads[name], self.digits)
        return leaf_of(self._oriented(name, strings), self.graph.nodes[name].rank)

    def array_leaf(self, name: str, arr: np.ndarray, exact: bool = False) -> Leaf:
        strings = shown_array(arr, self.digits, given=exact)
        return leaf_of(self._oriented(name, strings), self.graph.nodes[name].rank)

    def value(self, name: str):
        return self.n.spell(self.leaf(name))

    def num(self, x) -> str:
        return minus(shown(x, self.digits))

    def context(self, name: str, **extra):
        node = self.graph.nodes[name]
        return self.n.context([self.graph.nodes[i].rank for i in node.inputs], node.rank, **extra)

    # forward -----------------------------------------------------------------
    def forward(self) -> list[Step]:
        return [self.forward_step(name) for name in self.trace.forward_order]

    def forward_step(self, name: str) -> Step:
        node = self.graph.nodes[name]
        symbolic = self.n.expr_term(node.expr)
        numeric = self.substituted(name)
        shown_symbolic = node.named and node.expr.op not in ("name", "const")
        lhs = self.n.symbol(name) if node.named else self.n.spell(symbolic)
        note = self.component(name)
        if note is not None:
            note = Row((EG,) + note.items)
        return worked_step(
            lhs,
            symbolic if shown_symbolic else None,
            numeric,
            self.leaf(name),
            name,
            self.graph.layout,
            note=note,
            sub=not node.named,
        )

    def substituted(self, name: str):
        """The node's operation with its inputs' printed values put in."""
        node = self.graph.nodes[name]
        args = tuple(self.leaf(i) for i in node.inputs)
        return node.op.substituted(args, self.context(name))

    # one component, worked out -------------------------------------------------
    def component(self, name: str):
        """The first component of the step, worked out (its op's `example`)."""
        node = self.graph.nodes[name]
        if self.trace.values[name].size < 2 or not node.named:
            return None
        leaves = [self.leaf(i) for i in node.inputs]
        firsts = tuple(leaf(lf.rows[0][0]) for lf in leaves)
        extra = {}
        if len(leaves) == 2 and all(lf.rank for lf in leaves):
            a, b = leaves
            extra["rows"] = ([c for c in a.rows[0]], [r[0] for r in b.rows])
        if leaves and leaves[0].rank:
            first = leaves[0].rows
            units = [r[0] for r in first] if self.graph.layout == "column" else list(first[0])
            extra["units"] = [leaf(u) for u in units]
        examples = node.op.example(firsts, self.context(name, **extra))
        if not examples:
            return None
        sub = "1" if node.rank == 1 else "1,1"
        label = Script(Paren(self.n.symbol(name)), sub=Num(sub))
        result = Num(self.num(self.trace.values[name][0, 0]))
        return row(label, "=", joined([self.n.spell(t) for t in examples], "="), "=", result)

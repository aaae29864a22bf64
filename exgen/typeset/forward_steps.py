"""The forward pass as steps: each node's formula in symbols, with the printed numbers
put in, and its value; one component worked out as an example."""

from __future__ import annotations

import numpy as np

from exgen.engine.rounding import shown, shown_array
from exgen.engine.solve import Trace
from exgen.typeset.components import at, checkable, index_text, worked_entry
from exgen.typeset.formula import Frac, Num, Paren, Script, Text, joined, row
from exgen.typeset.notation import Notation
from exgen.typeset.spell import minus
from exgen.typeset.steps import EG, Step, claim, leaf_of, worked_step
from exgen.typeset.terms import Leaf, Symbol, leaf


def at_row(rows: tuple, i: int) -> tuple:
    return rows[i if len(rows) > 1 else 0]


def first_map(lf: Leaf, rank: int) -> Leaf:
    """An operand's part in the first map of an image or a batch of rank ``rank``: an
    image's or a batch's first map, a vector of one value per channel its first value."""
    if lf.rank > 2:
        rows = lf.rows[0] if lf.rank == 3 else lf.rows[0][0]
        return Leaf(rows, 2)
    if lf.rank == 1:  # a bias, one value per channel
        return leaf(lf.rows[0][0])
    return lf


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
        steps = []
        for name in self.trace.forward_order:
            steps += self.stage_steps(name, self.graph.nodes[name].op.stage_names)
            steps.append(self.forward_step(name))
        return steps

    # an operation's stages (Op.stage_names): intermediates on lines of their own ---------
    def stage_terms(self, name: str, numeric: bool) -> dict:
        """A node's stages as symbols, or as their printed values."""
        node = self.graph.nodes[name]
        op, x = node.op, self.n.node_term(node.inputs[0])
        if not numeric:  # ∂L/∂ of a stage ("grad.<stage>") written here, the rest by the op
            out: dict = {}
            for s in op.stage_names + op.grad_stage_names:
                of = out.get(s.removeprefix("grad."))
                if s.startswith("grad.") and isinstance(of, Symbol):
                    loss = self.n.symbol(self.graph.loss)
                    grad = Frac(row(Text("∂"), loss), row(Text("∂"), self.n.spell(of)))
                    out[s] = Symbol(grad, rank=of.rank)
                else:
                    out[s] = op.stage_symbol(s, x, out)
            return out
        digits = self.digits
        return {
            s: leaf_of(shown_array(v, digits), _stage_rank(v))
            for s, v in self.trace.stages.get(name, {}).items()
        }

    def stage_steps(self, name: str, stages: tuple, g=None) -> list[Step]:
        """One line per stage: its symbol = how it is computed = the numbers put in =
        its printed value (a piece of the node's step)."""
        if not stages:
            return []
        node = self.graph.nodes[name]
        op = node.op
        symbols, values = self.stage_terms(name, False), self.stage_terms(name, True)
        ins = [self.n.node_term(i) for i in node.inputs], [self.leaf(i) for i in node.inputs]
        out = []
        for stage in stages:
            terms = []
            for numeric, args, known in ((False, ins[0], symbols), (True, ins[1], values)):
                extra = {
                    "numeric": numeric,
                    "g": None if g is None else g[numeric],
                    "input_shape": self.graph.nodes[node.inputs[0]].shape,
                }
                ctx = self.context(name, **extra)
                terms.append(op.stage_term(stage, tuple(args), known, ctx))
            if terms[0] == symbols[stage]:  # a stage named by its own formula (∑ …)
                terms[0] = None
            step = worked_step(
                self.n.spell(symbols[stage]),
                terms[0],
                terms[1],
                values[stage],
                f"stage.{stage}.{name}",
                self.graph.layout,
                sub=True,
            )
            out.append(step)
        return out

    def forward_step(self, name: str) -> Step:
        node = self.graph.nodes[name]
        symbolic = self.n.expr_term(node.expr)
        if node.op is not None and node.op.stage_names:  # written with its stages' symbols
            args = tuple(self.n.node_term(i) for i in node.inputs)
            stages = self.stage_terms(name, False)
            symbolic = node.op.substituted(args, self.context(name, stages=stages))
        numeric = self.substituted(name)
        shown_symbolic = node.named and node.expr.op not in ("name", "const")
        lhs = self.n.symbol(name) if node.named else self.n.spell(symbolic)
        note, note_claims = self.component(name)
        return worked_step(
            lhs,
            symbolic if shown_symbolic else None,
            numeric,
            self.leaf(name),
            name,
            self.graph.layout,
            note=note,
            note_claims=note_claims,
            note_target=f"example.{name}",
            sub=not node.named,
        )

    def substituted(self, name: str):
        """The node's operation with its inputs' printed values put in."""
        node = self.graph.nodes[name]
        args = tuple(self.leaf(i) for i in node.inputs)
        stages = self.stage_terms(name, True) if node.op.stage_names else None
        return node.op.substituted(args, self.context(name, stages=stages))

    # one component, worked out -------------------------------------------------
    def component(self, name: str):
        """One component of the step worked out (its op's `example`) as the "e.g." note,
        the one components.worked_entry picks; and its claim. (None, []) for none."""
        node = self.graph.nodes[name]
        if node.kind != "op":
            return None, []
        leaves = [self.leaf(i) for i in node.inputs]
        result = self.leaf(name)
        prefix: tuple[int, ...] = ()
        whole = [lf.rows for lf in leaves]
        if result.rank > 2:  # an image or a batch: an entry of its first map
            prefix = (0,) * (result.rank - 2)
            leaves = [first_map(lf, result.rank) for lf in leaves]
            result = first_map(result, result.rank)

        def examples_at(i: int, j: int):
            # operands' entries at (i, j) (element-wise ops; clamped where an operand of
            # a product or a reduction is smaller than the result)
            extra = {"at": (i, j), "input_rows": leaves[0].rows} if leaves else {}
            i, j = min(i, len(leaves[0].rows) - 1), min(j, len(leaves[0].rows[0]) - 1)
            entries = tuple(leaf(at(lf.rows, i, j)) for lf in leaves)
            extra["operand_rows"] = whole  # a window's operands whole
            if len(leaves) == 2 and all(lf.rank for lf in leaves):
                a, b = leaves
                extra["rows"] = (
                    list(a.rows[i if len(a.rows) > 1 else 0]),
                    [at((r,), 0, j) for r in b.rows],
                )
            if leaves and leaves[0].rank:
                first = leaves[0].rows
                down = [at((r,), 0, j) for r in first]  # the entry's column, then its row
                extra["lines"] = ([leaf(u) for u in down], [leaf(u) for u in at_row(first, i)])
            return node.op.example(entries, self.context(name, **extra))

        picked = worked_entry(result.rows, examples_at)
        if picked is None:
            return None, []
        i, j, examples = picked
        label = self.component_label(self.n.node(name), node.rank, i, j, prefix)
        return self.example_note(label, examples, at(result.rows, i, j))

    def component_label(self, formula, rank: int, i: int, j: int, prefix: tuple = ()):
        """(u₁)₂ for a vector's component, (W)₁,₂ for a matrix's, (z)₁,₁,₂ for an
        image's (its map first)."""
        index = ",".join([*(str(k + 1) for k in prefix), index_text(rank if rank < 3 else 2, i, j)])
        return Script(Paren(formula), sub=Num(index))

    def example_note(self, label, examples: list, result: str):
        """ "e.g. label = example = … = result", with the last example's claim (when it
        is arithmetic key.json can record: not ReLU's max)."""
        value = leaf(result)
        note = row(
            EG,
            label,
            "=",
            joined([self.n.spell(t) for t in examples], "="),
            "=",
            Num(minus(result)),
        )
        return note, claim(examples[-1], value) if checkable(examples[-1]) else []


def _stage_rank(v: np.ndarray) -> int:
    """A stage's printed rank: a batch's x̂ is a batch, a statistic a vector or a number."""
    return v.ndim if v.ndim > 2 else 0 if v.size == 1 else 1 if 1 in v.shape else 2

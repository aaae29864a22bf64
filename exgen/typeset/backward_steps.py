"""The backward pass as steps: each adjoint as the sum of its consumers' contributions,
in symbols, with the printed numbers put in, and its value. Each contribution is its
operation's `adjoint` (or g ⊙ its local derivative); summing over a broadcast axis is
the one generic rule here."""

from __future__ import annotations

from exgen.typeset.components import at, component, worked_entry
from exgen.typeset.formula import Text, row
from exgen.typeset.forward_steps import Writer, first_map
from exgen.typeset.steps import Step, added, claim, dedupe
from exgen.typeset.terms import Apply, Leaf, Stack, apply, leaf


class BackwardWriter(Writer):
    def backward(self, also=()) -> list[Step]:
        by_target: dict[str, list] = {}
        for c in self.trace.contributions:
            by_target.setdefault(c.target, []).append(c)
        steps = []
        for name in self.backward_names(also):
            for c in by_target.get(name, []):  # the backward's own stages (∂L/∂x̂), first
                source = self.graph.nodes[c.source]
                if source.op.grad_stage_names and source.inputs[0] == name:
                    g = self.n.grad_term(c.source, self.graph.loss), self.grad_leaf(c.source)
                    steps += self.stage_steps(c.source, source.op.grad_stage_names, g)
            steps.append(self.backward_step(name, by_target.get(name, [])))
        return steps

    def backward_names(self, also=()) -> list[str]:
        """The nodes whose gradient the key shows: error signals, parameters and ``also``
        (given values whose gradients are asked for, e.g. an input)."""
        params = set(self.graph.params) | set(also)
        return [
            n
            for n in self.trace.backward_order
            if n != self.graph.loss
            and not (self.graph.nodes[n].kind == "given" and n not in params)
        ]

    def backward_step(self, name: str, contributions: list) -> Step:
        node = self.graph.nodes[name]
        result = self.grad_leaf(name)
        symbolic = [self.contribution(c, symbolic=True) for c in contributions]
        numeric = [self.contribution(c, symbolic=False) for c in contributions]
        terms = [added(symbolic), added(numeric)]
        claims: list = []
        values: list[Leaf] = []
        if len(contributions) > 1:
            # a value used several times (a weight shared by the steps of an RNN): its
            # gradient is the visible sum of one contribution per use, each printed (and,
            # carried, rounded) before the sum
            values = [self.array_leaf(name, c.value) for c in contributions]
            for term, value in zip(numeric, values):
                claims += claim(term, value)
            terms.append(added(values))
        claims += claim(terms[-1], result)
        terms.append(result)
        note, note_claims = self.local_note(contributions)
        note_target = ""
        picked = None
        prefix: tuple[int, ...] = ()
        shown, numeric_term, shown_values, parts = result, terms[1], values, numeric
        if result.rank > 2:  # an image, a batch, a filter bank: an entry of its first map
            prefix = (0,) * (result.rank - 2)
            shown, numeric_term = first_map(result, result.rank), first_map_term(terms[1])
            shown_values = [first_map(v, result.rank) for v in values]
            parts = [first_map_term(t) for t in numeric]
        if note is None and numeric_term is not None:
            picked = worked_entry(
                shown.rows, lambda i, j: _entry_examples(numeric_term, shown_values, i, j)
            )
        if picked is not None:
            i, j, examples = picked
            label = self.component_label(
                self.n.grad(name, self.graph.loss), node.rank, i, j, prefix
            )
            note, note_claims = self.example_note(label, examples, at(shown.rows, i, j))
            note_claims = _term_claims(parts, shown_values, i, j) + note_claims
            note_target = f"example.grad.{name}"
        return Step(
            self.n.grad(name, self.graph.loss),
            [self.n.spell(t) for t in dedupe(terms)],
            note=note,
            final=name in self.graph.params,
            sub=node.kind == "op" and not node.named,
            target=f"grad.{name}",
            claims=claims,
            note_claims=note_claims,
            note_target=note_target,
        )

    def contribution(self, c, symbolic: bool):
        """One consumer's contribution to an adjoint, in symbols or in printed numbers."""
        source = self.graph.nodes[c.source]
        op = source.op
        loss = self.graph.loss
        if symbolic:
            g = self.n.grad_term(c.source, loss)
            args = tuple(self.n.node_term(i) for i in source.inputs)
            out = self.n.node_term(c.source)
        else:
            g = self.grad_leaf(c.source)
            args = tuple(self.leaf(i) for i in source.inputs)
            out = self.leaf(c.source)
        target_shape = self._shown_shape(c.target)
        ctx = self.context(
            c.source,
            numeric=not symbolic,
            transposed=[
                self.graph.nodes[i].op is not None  # (Kᵀ)ᵀ is written K
                and self.graph.nodes[i].op.shape_rule == "transpose"
                for i in source.inputs
            ],
            operands=[  # the inputs' values as the operation saw them (e.g. for max's mask)
                self.trace.values[i].T if row else self.trace.values[i]
                for i, row in zip(source.inputs, source.as_row)
            ],
            shape=target_shape,
            count=self.trace.values[c.target].size,
            stages=self.stage_terms(c.source, not symbolic) if op.stage_names else None,
        )
        if op.elementwise_local:
            local = op.local_formula(args[0], out, ctx) if symbolic else self.local_leaf(c.source)
            term = op.elementwise_adjoint(g, local, ctx)
        else:
            term = op.adjoint(source.inputs.index(c.target), g, args, out, ctx)
        return self._unbroadcast(
            term, self._shown_shape(c.source), target_shape, self.graph.nodes[c.target].rank
        )

    def _shown_shape(self, name: str) -> tuple[int, int]:
        shape = self.trace.values[name].shape
        return shape[::-1] if name in self.rows else shape

    @staticmethod
    def _unbroadcast(term, source: tuple, target: tuple, rank: int):
        """Sum over the axes along which the target was broadcast (∑ₙ over samples)."""
        if source == target:
            return term
        if rank == 0:
            return apply("sum", term)
        if len(source) > 2 and rank == 1 and target == (source[-3], 1):
            # a bias of one value per channel: its entries (and a batch's samples)
            return apply("mapsum" if len(source) == 3 else "batchsum", term)
        if len(source) > 2 or len(target) > 2:  # an image's own shape (pooled, flattened)
            return term
        for axis in (0, 1):
            if target[axis] == 1 and source[axis] != 1:
                term = apply("sum", term, axis=axis)
        return term

    def local_leaf(self, name: str) -> Leaf:
        node = self.graph.nodes[name]
        return self.array_leaf(name, self.trace.local[name], exact=node.op.local_mask)

    def local_note(self, contributions):
        """An element-wise op's local derivative: its formula, with the printed numbers put
        in where it is arithmetic, and its values (a ReLU's mask, σ(1−σ), 1−tanh²), as
        its op says (local_note None: no note). Returns (note, claims)."""
        for c in contributions:
            node = self.graph.nodes[c.source]
            noted = node.op.noted_inputs
            if node.op.gradient_note and (noted is None or node.inputs.index(c.target) in noted):
                return Text(" " + node.op.gradient_note), []
            if not (node.op.elementwise_local and node.op.local_note is not None):
                continue
            ctx = self.context(c.source)
            u = node.inputs[0]
            symbolic = node.op.local_formula(self.n.node_term(u), self.n.node_term(c.source), ctx)
            numeric = node.op.local_formula(self.leaf(u), self.leaf(c.source), ctx)
            values = self.local_leaf(c.source)
            terms = [symbolic] + ([numeric] if _arithmetic(numeric) else []) + [values]
            parts = [x for t in dedupe(terms) for x in ("=", self.n.spell(t))][1:]
            if node.op.local_note:
                parts.append(Text(node.op.local_note))
            claims = claim(numeric, values) if _arithmetic(numeric) else []
            return row(*parts), claims
        return None, []


def first_map_term(term):
    """A term on images put to its first map (a stack: its first part), or None."""
    if isinstance(term, Leaf):
        return first_map(term, max(term.rank, 3)) if term.rank != 1 else None
    if isinstance(term, Stack):
        return term.parts[0]
    if isinstance(term, Apply) and term.op in ("add", "sub", "mul", "div"):
        args = tuple(first_map_term(a) for a in term.args)
        return None if None in args else Apply(term.op, args, term.kwargs, term.style)
    return None


def _arithmetic(term) -> bool:
    """Whether a term is operations on numbers only (no ReLU′-style named function)."""
    if isinstance(term, Leaf):
        return True
    return isinstance(term, Apply) and all(_arithmetic(a) for a in term.args)


def _entry_examples(numeric, values: list, i: int, j: int) -> list:
    """Entry (i, j) of a gradient's numeric line worked out. A gradient summed over several
    uses (``values``: each use's printed contribution) is the sum of the contributions as
    printed (each rounded, under carried rounding, before the sum), so the entry reads the
    products, then the printed terms, then the total:
    −0.44·0.24 + 0.00·0.76 + 0.02·0.5 = −0.11 + 0.00 + 0.01 = −0.10."""
    examples = [component(numeric, i, j)]
    if values:
        examples.append(component(added(values), i, j))
    return dedupe([e for e in examples if e is not None])


def _term_claims(numeric: list, values: list, i: int, j: int) -> list:
    """The claims of a summed entry's terms, one per use: its product gives its printed
    contribution (−0.44·0.24 = −0.11), read term by term from the worked entry — none
    when the entry's products are not printed (a term with no simple entry-wise reading)."""
    entries = [component(term, i, j) for term, _ in zip(numeric, values)]
    if any(e is None for e in entries):
        return []
    out: list = []
    for entry, value in zip(entries, values):
        out += claim(entry, leaf(at(value.rows, i, j)))
    return out

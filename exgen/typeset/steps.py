"""The worked solution as steps: formula in symbols, the numbers put in, the result.

Turns a Trace into presentation data (formula trees); knows nothing of HTML.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exgen.engine.solve import Trace
from exgen.typeset.formula import Frac, Func, Matrix, Num, Paren, Row, Script, Text, joined, matrix, row
from exgen.engine.rounding import shown, shown_array, shown_given
from exgen.typeset.notation import FUNCTION_NAMES, Notation

MAX_SUM_TERMS = 8
EG = Text("e.g.")  # set in italics by the renderer (class "eg")


@dataclass
class Step:
    lhs: object
    parts: list                      # each part follows an "=" sign
    note: object = None              # one component worked out, a mask, …
    final: bool = False              # a parameter gradient: the answer
    sub: bool = False                # a piece of a longer equation


@dataclass
class Solution:
    forward: list[Step] = field(default_factory=list)
    backward: list[Step] = field(default_factory=list)
    answers: list[Step] = field(default_factory=list)


class Writer:
    """Writes one exercise's trace as steps."""

    def __init__(self, trace: Trace, notation: Notation):
        self.trace, self.n = trace, notation
        self.graph = trace.graph
        self.digits = trace.rounding.digits
        self.rows = trace.graph.row_vectors

    # values as formulas ------------------------------------------------------
    def shown(self, name: str) -> np.ndarray:
        node = self.graph.nodes[name]
        return shown_array(self.trace.values[name], self.digits, given=node.kind != "op")

    def value(self, name: str):
        node = self.graph.nodes[name]
        if node.kind == "const":
            return Num(name.replace("-", "−"))
        return self.array(self._oriented(name, self.shown(name)), node.rank)

    def _oriented(self, name: str, strings: np.ndarray) -> np.ndarray:
        return strings.T if name in self.rows else strings

    def array(self, strings: np.ndarray, rank: int):
        return value_formula(strings, rank)

    def grad_value(self, name: str):
        node = self.graph.nodes[name]
        strings = shown_array(self.trace.grads[name], self.digits)
        return self.array(self._oriented(name, strings), node.rank)

    def num(self, x) -> str:
        return _minus(shown(x, self.digits))

    # forward -----------------------------------------------------------------
    def forward(self) -> list[Step]:
        steps = []
        for name in self.trace.forward_order:
            node = self.graph.nodes[name]
            symbolic = self.n.expr(node.expr)
            numeric = self.substituted(name)
            parts = [numeric, self.value(name)]
            if node.named and node.expr.op not in ("name", "const"):
                parts.insert(0, symbolic)
            lhs = self.n.symbol(name) if node.named else symbolic
            note = self.component(name)
            if note is not None:
                note = Row((EG,) + note.items)
            steps.append(Step(lhs, _dedupe(parts), note=note, sub=not node.named))
        return steps

    def substituted(self, name: str):
        """The node's operation with its inputs' values put in."""
        node = self.graph.nodes[name]
        op = node.op.name
        args = [self.value(i) for i in node.inputs]
        if op in ("add", "sub"):
            return row(args[0], "+" if op == "add" else "−", args[1])
        if op == "mul":
            scalar = any(self.graph.nodes[i].rank == 0 for i in node.inputs)
            return row(args[0], "·" if scalar else "⊙", args[1])
        if op == "div":
            return Frac(args[0], args[1])
        if op == "matmul":
            return Row((args[0], Text("\u2009"), args[1]))
        if op == "neg":
            return row("−", args[0])
        if op == "pow":
            return Script(_wrap(args[0]), sup=Num(_minus(str(node.op.exponent))))
        if op == "transpose":
            return Script(args[0], sup=Text("T"))
        if op == "sum":
            return self._sum_terms(node.inputs[0])
        if op == "mean":
            count = self.trace.values[node.inputs[0]].size
            return Frac(self._sum_terms(node.inputs[0]), Num(str(count)))
        return Func(FUNCTION_NAMES[op], args[0])

    def _sum_terms(self, name: str):
        strings = self.shown(name).reshape(-1)
        if strings.size > MAX_SUM_TERMS:
            return Func("∑", self.value(name))
        return joined([Num(_minus(s)) if not s.startswith("-") else Paren(Num(_minus(s)))
                       for s in strings], "+")

    def component(self, name: str):
        """The first component of an element-wise step, worked out."""
        node = self.graph.nodes[name]
        op = node.op.name
        values = self.trace.values
        first = [values[i].reshape(-1)[0] if values[i].size == 1 else values[i][0, 0]
                 for i in node.inputs]
        label = self._component_label(name)
        result = Num(self.num(values[name][0, 0]))
        if label is None:
            return None
        if op == "matmul":
            a, b = (values[i] for i in node.inputs)
            terms = [Row((self._given_num(node.inputs[0], a[0, k]), Text("·"),
                          self._given_num(node.inputs[1], b[k, 0]))) for k in range(a.shape[1])]
            if len(terms) < 2:
                return None
            return row(label, "=", joined(terms, "+"), "=", result)
        if op in ("add", "sub", "mul", "div"):
            a, b = (self._given_num(i, values[i].T[0, 0] if row_ else values[i][0, 0])
                    for i, row_ in zip(node.inputs, node.as_row))
            if op == "div":
                return row(label, "=", Frac(a, b), "=", result)
            sign = {"add": "+", "sub": "−", "mul": "·"}[op]
            return row(label, "=", a, sign, b, "=", result)
        if op == "pow":
            return row(label, "=", Script(_wrap(self._given_num(node.inputs[0], first[0])),
                                          sup=Num(str(node.op.exponent))), "=", result)
        if op in ("relu", "sigmoid", "tanh", "exp", "log", "step"):
            arg = self._given_num(node.inputs[0], first[0])
            worked = {"relu": Func("max", Row((Num("0"), Text(", "), arg))),
                      "sigmoid": Frac(Num("1"), row(Num("1"), "+", Script(Text("e"),
                                                                      sup=_negated(arg)))),
                      "step": None, "tanh": None, "exp": None, "log": None}[op]
            parts = [Func(FUNCTION_NAMES[op], arg), worked, result]
            return row(label, "=", joined([p for p in parts if p is not None], "="))
        if op == "softmax":
            h = values[node.inputs[0]]
            col = h[:, :1] if self.graph.layout == "column" else h[:1, :].T
            exps = [Script(Text("e"), sup=self._given_num(node.inputs[0], v)) for v in col[:, 0]]
            return row(label, "=", Frac(exps[0], joined(exps, "+")), "=", result)
        return None

    def _component_label(self, name: str):
        node = self.graph.nodes[name]
        if self.trace.values[name].size < 2 or not node.named:
            return None
        sub = "1" if node.rank == 1 else "1,1"
        return Script(Paren(self.n.symbol(name)), sub=Num(sub))

    def _given_num(self, name: str, x):
        node = self.graph.nodes[name]
        text = shown_given(x, self.digits) if node.kind != "op" else shown(x, self.digits)
        return Num(_minus(text)) if not text.startswith("-") else Paren(Num(_minus(text)))

    # backward ----------------------------------------------------------------
    def backward(self, also=()) -> list[Step]:
        steps = []
        loss = self.graph.loss
        params = set(self.graph.params)
        by_target: dict[str, list] = {}
        for c in self.trace.contributions:
            by_target.setdefault(c.target, []).append(c)
        for name in self.backward_names(also):
            node = self.graph.nodes[name]
            terms = by_target.get(name, [])
            symbolic = joined([self.term(c, symbolic=True) for c in terms], "+")
            numeric = joined([self.term(c, symbolic=False) for c in terms], "+")
            parts = _dedupe([symbolic, numeric, self.grad_value(name)])
            steps.append(Step(self.n.grad(name, loss), parts, note=self.local_note(terms),
                              final=name in params, sub=node.kind == "op" and not node.named))
        return steps

    def backward_names(self, also=()) -> list[str]:
        """The nodes whose gradient the key shows: error signals, parameters and ``also``
        (given values whose gradients are asked for, e.g. an input)."""
        params = set(self.graph.params) | set(also)
        return [n for n in self.trace.backward_order if n != self.graph.loss and not (
            self.graph.nodes[n].kind == "given" and n not in params)]

    def term(self, c, symbolic: bool):
        """One consumer's contribution to an adjoint, in symbols or in numbers."""
        node = self.graph.nodes[c.source]
        op = node.op.name
        position = node.inputs.index(c.target)
        other = node.inputs[1 - position] if len(node.inputs) == 2 else None
        g = self.n.grad(c.source, self.graph.loss) if symbolic else self.grad_value(c.source)

        def val(name):
            return self.n.node(name) if symbolic else self.value(name)

        broadcast = self.trace.values[c.source].shape != self.trace.values[c.target].shape \
            and op in ("add", "sub", "mul", "div")
        if op == "add":
            out = g
        elif op == "sub":
            out = g if position == 0 else row("−", g)
        elif op == "mul":
            scalar = self.graph.nodes[other].rank == 0
            out = row(val(other), "·", g) if scalar else row(g, "⊙", val(other))
        elif op == "div":
            out = Frac(g, val(other)) if position == 0 else \
                row("−", g, "⊙", Frac(val(other), Script(_wrap(val(c.target)), sup=Num("2"))))
        elif op == "matmul":
            out = Row((g, Text("\u2009"), Script(_wrap(val(other)), sup=Text("T")))) \
                if position == 0 else Row((Script(_wrap(val(other)), sup=Text("T")),
                                          Text("\u2009"), g))
        elif op == "neg":
            out = row("−", g)
        elif op == "transpose":
            out = Script(_wrap(g), sup=Text("T"))
        elif op == "sum":
            out = row(g, "·", Text("𝟏"))
        elif op == "mean":
            out = Frac(g, Num(str(self.trace.values[c.target].size)))
        elif op == "softmax":
            p = val(c.source)
            out = row(p, "⊙", Paren(row(g, "−", Row((Script(_wrap(p), sup=Text("T")),
                                                    Text("\u2009"), g)))))
        else:
            local = self.local_symbolic(c.source) if symbolic else self.local_value(c.source)
            out = row(g, "⊙", local) if self.graph.nodes[c.source].rank else row(g, "·", local)
        if broadcast:
            out = Func("∑ₙ", out)
        return out

    def local_symbolic(self, name: str):
        node = self.graph.nodes[name]
        x = self.n.node(node.inputs[0])
        out = self.n.node(name)
        op = node.op.name
        if op == "relu":
            return Func("ReLU′", x)
        if op == "sigmoid":
            return row(out, "⊙", Paren(row(Num("1"), "−", out))) if node.rank else \
                row(out, "·", Paren(row(Num("1"), "−", out)))
        if op == "tanh":
            return Paren(row(Num("1"), "−", Script(_wrap(out), sup=Num("2"))))
        if op == "exp":
            return out
        if op == "log":
            return Frac(Num("1"), x)
        if op == "pow":
            k = node.op.exponent
            power = Script(_wrap(x), sup=Num(str(k - 1))) if k != 2 else _wrap(x)
            return row(Num(str(k)), "·", power) if k != 1 else Num("1")
        if op == "step":
            return Func("step′", x)
        return Num("1")

    def local_value(self, name: str):
        node = self.graph.nodes[name]
        local = self.trace.local[name]
        exact_mask = node.op.name in ("relu", "step", "identity")
        strings = shown_array(local, self.digits, given=exact_mask)
        return self.array(strings, node.rank)

    def local_note(self, terms):
        """ReLU steps show their mask; σ′ and tanh′ their formula."""
        for c in terms:
            node = self.graph.nodes[c.source]
            if node.op.name == "relu":
                return row(Func("ReLU′", self.n.node(node.inputs[0])), "=",
                           self.local_value(c.source), Text(" (1 where the input is > 0, else 0)"))
            if node.op.name in ("sigmoid", "tanh"):
                return row(self.local_symbolic(c.source), "=", self.local_value(c.source))
        return None


def _wrap(item):
    return item if isinstance(item, (Matrix, Num, Paren)) or getattr(item, "kind", "") == "sym" \
        else Paren(item)


def _negated(arg):
    if isinstance(arg, Paren) and isinstance(arg.inner, Num):
        return Num(arg.inner.text.lstrip("−"))
    return row("−", arg)


def _minus(text: str) -> str:
    return text.replace("-", "−")


def value_formula(strings: np.ndarray, rank: int):
    """Shown strings as a number (rank 0) or a matrix, with real minus signs."""
    strings = np.asarray(strings, dtype=object)
    if rank == 0:
        return Num(_minus(strings.reshape(-1)[0]))
    return matrix(np.vectorize(_minus, otypes=[object])(np.atleast_2d(strings)))


def _dedupe(parts: list) -> list:
    out = []
    for p in parts:
        if not out or out[-1] != p:
            out.append(p)
    return out


def solution(trace: Trace, notation: Notation, asks: list) -> Solution:
    writer = Writer(trace, notation)
    names = {a for a, _ in asks}
    sol = Solution()
    if "forward" in names or "backward" in names or "gradients" in names:
        sol.forward = writer.forward()
    wanted = [n for a, o in asks if a == "gradients" for n in o]
    if "backward" in names:
        sol.backward = writer.backward(wanted)
    steps = writer.backward(wanted) if "gradients" in names and not sol.backward else sol.backward
    by_name = dict(zip(writer.backward_names(wanted), steps))
    if "backward" in names:
        wanted += [p for p in trace.graph.params if p not in wanted]
    sol.answers = [Step(by_name[n].lhs, [by_name[n].parts[-1]], final=True) for n in wanted]
    return sol

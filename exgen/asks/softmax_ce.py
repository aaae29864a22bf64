"""`softmax_ce`: the derivative of the cross-entropy of a softmax w.r.t. its input —
δ = p − y for one sample; δ = (p − y)/N when the loss is a mean over N samples (read off
the equations: the constant factor between y ⊙ log p and the loss) — derived, evaluated
on the exercise's numbers and set beside backpropagation's."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from exgen.asks.base import Ask, Work, entry, forward_steps_json, number, printed_forward
from exgen.engine.rounding import round_array, shown_array
from exgen.engine.solve import Trace
from exgen.errors import DefinitionError
from exgen.language import N_
from exgen.typeset.formula import Frac, Num, Paren, Row, Script, Sym, Text, row
from exgen.typeset.notation import index, indexed
from exgen.typeset.steps import Step, value_formula

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef
    from exgen.engine.graph import Graph


def _softmax(graph: Graph):
    return next(
        (n for n in graph.nodes.values() if n.kind == "op" and n.op.name == "softmax"), None
    )


def check(graph: Graph, options, path: str) -> None:
    if _softmax(graph) is None:
        raise DefinitionError("the network has no softmax (e.g. p = softmax(h))", path=path)


@dataclass
class SoftmaxCE:
    p: str
    h: str
    target: str | None  # the one-hot y of −∑ y ⊙ log p, when the loss has that form
    scale: Fraction | None  # ∂L/∂h = scale · (p − y); None when the loss is not of that form
    samples: int  # columns of h (rows in row layout)
    delta: np.ndarray | None  # scale · (p − y), rounded as the key rounds

    @property
    def count(self) -> int | None:
        """N when δ = (p − y)/N (1 for a single sample's sum)."""
        if self.scale is not None and self.scale > 0 and self.scale.numerator == 1:
            return self.scale.denominator
        return None


def compute(ex: ExerciseDef, trace: Trace, notation, options) -> SoftmaxCE:
    graph = trace.graph
    node = _softmax(graph)
    p, h = node.name, node.inputs[0]
    target, product = _one_hot_target(graph, p)
    scale = _factor(graph, product) if product is not None else None
    samples = graph.nodes[h].shape[1 if graph.layout == "column" else 0]
    delta = None
    if target is not None and scale is not None:
        delta = (trace.values[p] - trace.values[target]) * (scale if trace.exact else float(scale))
        if trace.rounding.carry:
            delta = round_array(delta, trace.rounding.digits)
    return SoftmaxCE(p, h, target, scale, samples, delta)


def _one_hot_target(graph: Graph, p: str):
    """(y, the node y ⊙ log p) of a cross-entropy −∑ y ⊙ log p, or (None, None)."""
    for node in graph.nodes.values():
        if (
            node.kind == "op"
            and node.op.name == "mul"
            and any(
                graph.nodes[i].kind == "op"
                and graph.nodes[i].op.name == "log"
                and graph.nodes[i].inputs == (p,)
                for i in node.inputs
            )
        ):
            others = [i for i in node.inputs if graph.nodes[i].kind == "given"]
            return (others[0], node.name) if others else (None, None)
    return None, None


def _factor(graph: Graph, start: str) -> Fraction | None:
    """−∂L/∂(y ⊙ log p) when the loss is a constant multiple of its sum (−1 for
    L = −∑ y ⊙ log p, −1/N for its mean over N samples), else None."""
    factor, name = Fraction(1), start
    while name != graph.loss:
        users = graph.consumers(name)
        if len(users) != 1:
            return None
        node = graph.nodes[users[0]]
        op, others = node.op.name, [i for i in node.inputs if i != name]
        const = (
            graph.nodes[others[0]].value
            if others and graph.nodes[others[0]].kind == "const"
            else None
        )
        if op in ("sum", "identity"):
            pass
        elif op == "mean":
            factor /= graph.nodes[name].shape[0] * graph.nodes[name].shape[1]
        elif op == "neg":
            factor = -factor
        elif op == "mul" and const is not None:
            factor *= const
        elif op == "div" and const is not None and node.inputs[0] == name:
            factor /= const
        else:
            return None
        name = node.name
    return -factor


P = lambda i: Row((Sym("P"), Paren(row(Sym("y"), "=", Sym(i)))))  # noqa: E731
D = lambda a, b: Frac(row(Text("∂"), a), row(Text("∂"), b))  # noqa: E731
SUM = lambda k: Row((Text("∑"), Script(Text(""), sub=index(k))))  # noqa: E731


def _derivation(result: SoftmaxCE) -> list:
    """The proof, for one sample's cross-entropy, then (for a loss that scales the sum,
    e.g. a mean over the samples) the factor it adds."""
    count, scale = result.count, result.scale
    hs = lambda i: indexed("h", i)  # noqa: E731
    expsum = Row(
        (Text("∑"), Script(Text(""), sub=index("k")), Script(Text("e"), sup=indexed("h", "k")))
    )
    one = count == 1 or scale is None
    loss = Sym("L") if one else Sym("ℓ")
    lines = [
        row(P("j"), "=", Frac(Script(Text("e"), sup=indexed("h", "j")), expsum)),
        row(
            loss,
            "=",
            "−",
            SUM("j"),
            indexed("y", "j"),
            Text(" log "),
            P("j"),
            None if one else Text(N_("\u2003the cross-entropy of one sample")),
        ),
        row(
            D(P("i"), hs("i")),
            "=",
            P("i"),
            Paren(row(Num("1"), "−", P("i"))),
            Text(N_("\u2003for ")),
            Sym("j"),
            "=",
            Sym("i"),
            Text(";\u2003\u2003"),
            D(P("j"), hs("i")),
            "=",
            "−",
            P("j"),
            P("i"),
            Text(N_("\u2003for ")),
            Sym("j"),
            Text(" ≠ "),
            Sym("i"),
        ),
        row(
            D(loss, hs("i")),
            "=",
            "−",
            SUM("j"),
            Frac(indexed("y", "j"), P("j")),
            D(P("j"), hs("i")),
            "=",
            "−",
            indexed("y", "i"),
            Paren(row(Num("1"), "−", P("i"))),
            "+",
            SUM("j≠i"),
            indexed("y", "j"),
            P("i"),
        ),
        row(
            Text(""),
            "=",
            P("i"),
            SUM("j"),
            indexed("y", "j"),
            "−",
            indexed("y", "i"),
            "=",
            P("i"),
            "−",
            indexed("y", "i"),
            Text(N_("\u2003since the ")),
            indexed("y", "j"),
            Text(N_(" of a one-hot ")),
            Sym("y"),
            Text(N_(" sum to 1.")),
        ),
    ]
    if one or scale is None:
        return lines
    per_sample = row(
        indexed("P", "n"), Paren(row(Sym("y"), "=", Sym("i"))), "−", indexed("y", "in")
    )
    mean = Frac(Num("1"), Sym("N")) if count is not None else Num(_text(scale))
    lines += [
        row(
            Sym("L"),
            "=",
            mean,
            SUM("n"),
            indexed("ℓ", "n"),
            (
                row(
                    Text(N_("\u2003the mean over the ")),
                    Sym("N"),
                    "=",
                    Num(str(count)),
                    Text(N_(" samples ")),
                    Sym("n"),
                )
                if count == result.samples
                else row(Text(N_("\u2003with ")), Sym("N"), "=", Num(str(count)))
                if count is not None
                else None
            ),
        ),
        row(
            D(Sym("L"), indexed("h", "in")),
            "=",
            mean,
            D(indexed("ℓ", "n"), indexed("h", "in")),
            "=",
            Frac(per_sample, Sym("N")) if count is not None else row(mean, Paren(per_sample)),
        ),
    ]
    return lines


def _text(x: Fraction) -> str:
    return str(x).replace("-", "−")


def view(options, work: Work) -> dict:
    result, trace, notation = work.results["softmax_ce"], work.trace, work.notation
    graph, digits = trace.graph, trace.rounding.digits
    count = result.count
    numbers = printed_forward(trace, notation, work.asks)
    if result.delta is not None:
        p, y = notation.symbol(result.p), notation.symbol(result.target)
        pv = value_formula(shown_array(trace.values[result.p], digits), 2)
        tv = value_formula(shown_array(trace.values[result.target], digits, given=True), 2)
        if count == 1:
            symbols, numeric = row(p, "−", y), row(pv, "−", tv)
        elif count is not None:
            symbols, numeric = (
                Frac(row(p, "−", y), Sym("N")),
                Frac(row(pv, "−", tv), Num(str(count))),
            )
        else:
            symbols = row(Num(_text(result.scale)), Paren(row(p, "−", y)))
            numeric = row(Num(_text(result.scale)), Paren(row(pv, "−", tv)))
        numbers += [
            Step(
                notation.grad(result.h, graph.loss),
                [symbols, numeric, value_formula(shown_array(result.delta, digits), 2)],
            ),
            Step(  # the same gradient through the graph, node by node: they agree
                row(notation.grad(result.h, graph.loss), Text("\u2002by backpropagation")),
                [value_formula(shown_array(trace.grads[result.h], digits), 2)],
                final=True,
            ),
        ]
    return {
        "lines": _derivation(result),
        "numbers": numbers,
        "p": notation.symbol(result.p),
        "h": notation.symbol(result.h),
        "count": count if count is not None and count > 1 else None,
        "over_samples": count == result.samples,
    }


def to_json(result: SoftmaxCE, ex: ExerciseDef) -> dict:
    out: dict = {
        "N": result.count,
        "factor": None if result.scale is None else number(result.scale),
    }
    if result.delta is not None:
        out["delta"] = entry(result.delta, ex.graph.nodes[result.h].rank, ex.rounding.digits, False)
    return out


ASK = Ask(
    name="softmax_ce",
    options=None,
    check=check,
    compute=compute,
    view=view,
    json=to_json,
    columns=None,
    needs=(),
    needs_params=False,
    numeric=False,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=forward_steps_json,
    state=None,
)

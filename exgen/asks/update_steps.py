"""The update ask's printed lines, for each parameter as a textbook works them: the
optimizer's new state with the numbers put in, then the new parameter. Each line is one
formula tree: the printed line and its key.json claim (STEPS.md) cannot disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exgen.engine.solve import Trace
from exgen.typeset.formula import Paren, Script, Sym, Text
from exgen.typeset.steps import Step, leaf_of, worked_step
from exgen.typeset.terms import Symbol, apply, leaf

if TYPE_CHECKING:  # the ask's result (asks/update.py imports this module)
    from exgen.asks.update import Update, UpdateRow

GREEK = {"lr": Sym("η"), "beta": Sym("β"), "beta1": Sym("β", sub="1"), "beta2": Sym("β", sub="2")}
GREEK |= {"eps": Sym("ε"), "t": Sym("t")}


def state_symbol(role: str, param_symbol, rank: int, new: bool = False):
    """v_θ (the previous state), v_θ^new (the new one), m̂_θ (bias-corrected)."""
    letter, hat = {"mhat": ("m", True), "vhat": ("v", True)}.get(role, (role, False))
    symbol = Script(Sym(letter, bold=rank > 0, hat=hat), sub=param_symbol)
    return Script(symbol, sup=Text("new")) if new else symbol


def _scalar(a, b):
    return apply("mul", a, b, style="scalar")


def _square(g, rank: int):
    """g² (a number; (∂L/∂w)² in symbols) or g ⊙ g (element-wise, never read as a
    matrix product)."""
    if rank:
        return apply("mul", g, g)
    if isinstance(g, Symbol):
        g = Symbol(Paren(g.formula), g.name, g.rank)
    return apply("pow", g, leaf("2"))


class _Line:
    """The symbols and the printed numbers of one parameter's step."""

    def __init__(self, result: Update, r: UpdateRow, trace: Trace, notation):
        self.result, self.r = result, r
        self.rank = trace.graph.nodes[r.param].rank
        self.sym = notation.symbol(r.param)
        self.grad = Symbol(notation.grad(r.param, trace.graph.loss), "", self.rank)
        self.layout = trace.graph.layout

    def h(self, name: str):
        """A hyperparameter: (its symbol, its printed value)."""
        return Symbol(GREEK[name]), leaf(self.result.hyper_text(name))

    def state(self, role: str, new: bool = False):
        """A state value: (its symbol, its printed numbers)."""
        if role in ("mhat", "vhat"):
            new = False  # m̂ and v̂ exist after the step only
        symbol = Symbol(state_symbol(role, self.sym, self.rank, new), "", self.rank)
        arr = self.r.after[role] if new or role in ("mhat", "vhat") else self.r.before[role]
        strings = self.result.turned(self.r.param, arr, given=not new and role in ("m", "v"))
        return symbol, leaf_of(strings, self.rank)

    def line(self, role: str, symbolic, numeric) -> Step:
        final = role == "param"
        lhs = (
            Script(self.sym, sup=Text("new"))
            if final
            else state_symbol(role, self.sym, self.rank, new=role in ("m", "v"))
        )
        arr = self.r.new if final else self.r.after[role]
        name = self.r.param if final else f"{role}_{self.r.param}"
        result = leaf_of(self.result.turned(self.r.param, arr), self.rank)
        return worked_step(
            lhs, symbolic, numeric, result, f"update.{name}", self.layout, final=final
        )

    def parameter(self, step_symbol, step_numbers) -> Step:
        """θ_new = θ − η · (the step)."""
        eta, eta_n = self.h("lr")
        theta = Symbol(self.sym, self.r.param, self.rank)
        old = leaf_of(self.result.turned(self.r.param, self.r.old, given=True), self.rank)
        return self.line(
            "param",
            apply("sub", theta, _scalar(eta, step_symbol)),
            apply("sub", old, _scalar(eta_n, step_numbers)),
        )


def printed_steps(result: Update, trace: Trace, notation) -> list[Step]:
    """Each parameter's lines, in the order a textbook writes them."""
    steps: list[Step] = []
    for r in result.rows:
        w = _Line(result, r, trace, notation)
        g_n = leaf_of(result.turned(r.param, r.grad), w.rank)
        kind = result.optimizer.name
        if kind == "sgd":
            steps.append(w.parameter(w.grad, g_n))
        elif kind == "momentum":
            (beta, beta_n), (v, v_n) = w.h("beta"), w.state("v")
            steps.append(
                w.line(
                    "v",
                    apply("add", _scalar(beta, v), w.grad),
                    apply("add", _scalar(beta_n, v_n), g_n),
                )
            )
            steps.append(w.parameter(*w.state("v", new=True)))
        else:
            steps += _adam(w, g_n)
    return steps


def _adam(w: _Line, g_n) -> list[Step]:
    one = leaf("1")
    (b1, b1_n), (b2, b2_n), (t, t_n), (eps, eps_n) = (
        w.h(n) for n in ("beta1", "beta2", "t", "eps")
    )
    (m, m_n), (v, v_n) = w.state("m"), w.state("v")
    (m1, m1_n), (v1, v1_n) = w.state("m", new=True), w.state("v", new=True)
    (mh, mh_n), (vh, vh_n) = w.state("mhat"), w.state("vhat")
    lines = [
        w.line(
            "m",
            apply("add", _scalar(b1, m), _scalar(apply("sub", one, b1), w.grad)),
            apply("add", _scalar(b1_n, m_n), _scalar(apply("sub", one, b1_n), g_n)),
        ),
        w.line(
            "v",
            apply("add", _scalar(b2, v), _scalar(apply("sub", one, b2), _square(w.grad, w.rank))),
            apply(
                "add", _scalar(b2_n, v_n), _scalar(apply("sub", one, b2_n), _square(g_n, w.rank))
            ),
        ),
        w.line(
            "mhat",
            apply("div", m1, apply("sub", one, apply("pow", b1, t))),
            apply("div", m1_n, apply("sub", one, apply("pow", b1_n, t_n))),
        ),
        w.line(
            "vhat",
            apply("div", v1, apply("sub", one, apply("pow", b2, t))),
            apply("div", v1_n, apply("sub", one, apply("pow", b2_n, t_n))),
        ),
    ]
    lines.append(
        w.parameter(
            apply("div", mh, apply("add", apply("sqrt", vh), eps)),
            apply("div", mh_n, apply("add", apply("sqrt", vh_n), eps_n)),
        )
    )
    return lines

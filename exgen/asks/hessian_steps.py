"""The Hessian ask's worked key: H = (1/N)·XᵀX with the numbers, its eigenvalues (for a
2×2 from the characteristic polynomial), κ = λmax/λmin; then μ, σ², σ, X̂ and the same
again. Every line that computes something carries its claim (typeset/steps.py), so
`exgen check` works it out again from the printed numbers."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from exgen.engine.rounding import shown, shown_array, shown_given
from exgen.language import N_
from exgen.typeset.formula import Frac, Num, Paren, Row, Script, Sym, Text, row
from exgen.typeset.steps import Step, leaf_of, step_entries, worked_step
from exgen.typeset.terms import Leaf, Symbol, apply, leaf

if TYPE_CHECKING:  # the ask's own module imports this one
    from exgen.asks.hessian import Analysis, Hessian, Normalized
    from exgen.define.load import ExerciseDef
    from exgen.typeset.notation import Notation

H = Sym("H", bold=True)
I_ = Sym("I", bold=True)
LAMBDA = Sym("λ")


def _matrix(arr: np.ndarray, digits: int, given: bool = False) -> Leaf:
    return leaf_of(shown_array(np.asarray(arr, dtype=object), digits, given), 2)


def _vector(arr: np.ndarray, digits: int) -> Leaf:
    return leaf_of(shown_array(np.asarray(arr, dtype=object), digits), 1)


def hessian_symbol(loss, wrt) -> Frac:
    """∂²J / ∂w ∂wᵀ."""
    return Frac(
        Row((Script(Text("∂"), sup=Num("2")), loss)),
        Row((Text("∂"), wrt, Text("∂"), Script(wrt, sup=Text("T")))),
    )


def _gram_symbol(x: Symbol, layout: str):
    """XᵀX (samples are rows) or X Xᵀ (samples are columns)."""
    if layout == "row":
        return apply("matmul", apply("transpose", x), x)
    return apply("matmul", x, apply("transpose", x))


def _factor_terms(factor, samples: int, gram_sym, gram_num):
    """(symbolic, numeric) of c·XᵀX: (1/N)·XᵀX written as XᵀX / N, else (p·XᵀX) / q."""
    if factor == Fraction(1, samples):
        return apply("div", gram_sym, Symbol(Sym("N"))), apply("div", gram_num, leaf(str(samples)))
    c = Fraction(factor).limit_denominator(10**6) if not isinstance(factor, Fraction) else factor
    sym, num = gram_sym, gram_num
    if c.numerator != 1:
        sym = apply("mul", leaf(str(c.numerator)), sym, style="scalar")
        num = apply("mul", leaf(str(c.numerator)), num, style="scalar")
    if c.denominator != 1:
        sym, num = (
            apply("div", sym, leaf(str(c.denominator))),
            apply("div", num, leaf(str(c.denominator))),
        )
    return sym, num


def matrix_steps(
    result: Hessian, a: Analysis, samples, x: Symbol, lhs, tag: str, given: bool
) -> list[Step]:
    """XᵀX with the numbers, then H = XᵀX / N (or H by its columns when not of that form)."""
    digits, layout = result.digits, result.layout
    if a.factor is None or samples is None:
        return [
            Step(
                lhs,
                [_spelled(_matrix(a.matrix, digits), layout)],
                target=f"hessian.{tag}matrix",
            )
        ]
    gram = samples.T.dot(samples)
    shown_data = _matrix(samples, digits, given)
    shown_t = _matrix(samples.T, digits, given)
    # AᵀA for the samples A as rows: XᵀX in row layout, X Xᵀ (A = Xᵀ) in column layout
    numeric = apply("matmul", shown_t, shown_data)
    gram_leaf = _matrix(gram, digits)
    gram_sym = _gram_symbol(x, layout)
    first = worked_step(
        _spelled(gram_sym, layout), None, numeric, gram_leaf, f"hessian.{tag}gram", layout
    )
    sym, num = _factor_terms(a.factor, samples.shape[0], gram_sym, gram_leaf)
    second = worked_step(
        lhs, sym, num, _matrix(a.matrix, digits), f"hessian.{tag}matrix", layout, final=True
    )
    return [first, second]


def _spelled(term, layout):
    from exgen.typeset.spell import spell

    return spell(term, layout)


def eigen_steps(a: Analysis, digits: int, layout: str, tag: str, h: Sym = H) -> list[Step]:
    """tr, det, the characteristic polynomial and λ₁,₂ for a 2×2; the values otherwise."""
    d = a.matrix.shape[0]
    lam = [shown(x, digits) for x in a.eigenvalues]
    if d != 2:
        values = Leaf(tuple((t,) for t in lam), 1) if d > 1 else leaf(lam[0])
        return [
            Step(
                LAMBDA if d == 1 else Sym("λ", bold=True),
                [_spelled(values, layout)],
                note=row(Text(N_("numerically, numpy.linalg.eigvalsh"))) if d > 2 else None,
                target=f"hessian.{tag}eigenvalues",
            )
        ]
    m = [[shown(x, digits) for x in r] for r in a.matrix]
    tr, det, disc = a.chain["trace"], a.chain["det"], a.chain["disc"]
    tr_s, det_s = shown(tr, digits), shown(det, digits)
    tr_sym, det_sym = Row((Text("tr "), h)), Row((Text("det "), h))
    steps = [
        worked_step(
            tr_sym,
            None,
            apply("add", leaf(m[0][0]), leaf(m[1][1])),
            leaf(tr_s),
            f"hessian.{tag}trace",
            layout,
        ),
        worked_step(
            det_sym,
            None,
            apply(
                "sub",
                apply("mul", leaf(m[0][0]), leaf(m[1][1]), style="scalar"),
                apply("mul", leaf(m[0][1]), leaf(m[1][0]), style="scalar"),
            ),
            leaf(det_s),
            f"hessian.{tag}det",
            layout,
        ),
    ]
    poly = row(Script(LAMBDA, sup=Num("2")), "−", Paren(tr_sym), LAMBDA, "+", det_sym)
    numbers = row(
        Script(LAMBDA, sup=Num("2")),
        "−",
        Num(tr_s.replace("-", "−")),
        LAMBDA,
        "+",
        Num(det_s.replace("-", "−")),
    )
    steps.append(Step(row(Text("det"), Paren(row(h, "−", LAMBDA, I_))), [poly, numbers, Num("0")]))
    disc_s = shown(disc, digits)
    steps.append(
        worked_step(
            Sym("D"),
            apply(
                "sub",
                apply("pow", Symbol(Paren(tr_sym)), leaf("2")),
                apply("mul", leaf("4"), Symbol(det_sym), style="scalar"),
            ),
            apply(
                "sub",
                apply("pow", leaf(tr_s), leaf("2")),
                apply("mul", leaf("4"), leaf(det_s), style="scalar"),
            ),
            leaf(disc_s),
            f"hessian.{tag}discriminant",
            layout,
        )
    )
    for k, sign in ((0, "add"), (1, "sub")):
        root = apply("sqrt", Symbol(Sym("D")))
        steps.append(
            worked_step(
                Script(LAMBDA, sub=Num(str(k + 1))),
                apply("div", apply(sign, Symbol(tr_sym), root), leaf("2")),
                apply(
                    "div",
                    apply(sign, leaf(tr_s), apply("sqrt", leaf(disc_s))),
                    leaf("2"),
                ),
                leaf(lam[k]),
                f"hessian.{tag}eigenvalues[{k + 1}]",
                layout,
            )
        )
    return steps


def condition_step(a: Analysis, digits: int, layout: str, tag: str) -> list[Step]:
    """κ = λmax / λmin with the numbers; nothing when H is not positive definite."""
    if a.condition is None:
        return []
    top, low = shown(a.eigenvalues[0], digits), shown(a.eigenvalues[-1], digits)
    kappa = Sym("κ")
    symbolic = apply(
        "div", Symbol(Script(LAMBDA, sub=Text("max"))), Symbol(Script(LAMBDA, sub=Text("min")))
    )
    numeric = apply("div", leaf(top), leaf(low)) if float(low) else None
    return [
        worked_step(
            kappa,
            symbolic,
            numeric,
            leaf(shown(a.condition, digits)),
            f"hessian.{tag}condition_number",
            layout,
            final=True,
        )
    ]


def normalize_steps(
    result: Hessian, n: Normalized, inputs: np.ndarray, x: Symbol, xhat: Symbol
) -> list[Step]:
    """μ, σ², σ and X̂ = (X − μ)/σ, each feature over the samples."""
    digits, layout = result.digits, result.layout
    axis = 0 if layout == "row" else 1
    data = _matrix(inputs, digits, given=True)
    mu, var, std = (_matrix(v, digits) for v in (n.mean, n.variance, n.std))
    mu_s, var_s, std_s = (
        Symbol(Sym("μ", bold=True), rank=1),
        Symbol(Script(Sym("σ", bold=True), sup=Num("2")), rank=1),
        Symbol(Sym("σ", bold=True), rank=1),
    )
    centered = apply("sub", x, mu_s)
    count, big_n = leaf(str(result.samples)), Symbol(Sym("N"))

    def mean(term, by):  # Σₙ term / N: how the key writes a mean over the samples
        return apply("div", apply("sum", term, axis=axis), by)

    return [
        worked_step(
            mu_s.formula, mean(x, big_n), mean(data, count), mu, "hessian.normalized.mean", layout
        ),
        worked_step(
            var_s.formula,
            mean(apply("pow", centered, leaf("2")), big_n),
            mean(apply("pow", apply("sub", data, mu), leaf("2")), count),
            var,
            "hessian.normalized.variance",
            layout,
        ),
        worked_step(
            std_s.formula,
            apply("sqrt", var_s),
            apply("sqrt", var),
            std,
            "hessian.normalized.std",
            layout,
        ),
        worked_step(
            xhat.formula,
            apply("div", centered, std_s),
            apply("div", apply("sub", data, mu), std),
            _matrix(n.inputs, digits),
            "hessian.normalized.inputs",
            layout,
        ),
    ]


def _steps(result: Hessian, notation: Notation) -> dict[str, list[Step]]:
    layout, digits = result.layout, result.digits
    loss = notation.symbol(notation.graph.loss)
    wrt = notation.symbol(result.wrt)
    x = notation.symbol_term(result.data) if result.data else Symbol(Sym("X", bold=True), rank=2)
    lhs = hessian_symbol(loss, wrt)
    a = result.analysis
    out = {
        "matrix": matrix_steps(
            result,
            a,
            result.inputs if layout == "row" or result.inputs is None else result.inputs.T,
            x,
            lhs,
            "",
            True,
        ),
        "eigen": eigen_steps(a, digits, layout, ""),
        "condition": condition_step(a, digits, layout, ""),
    }
    n = result.normalized
    if n is not None and result.inputs is not None:
        xhat = Symbol(
            replace(x.formula, hat=True) if isinstance(x.formula, Sym) else x.formula, x.name, 2
        )
        samples = n.inputs if layout == "row" else n.inputs.T
        out["normalize"] = normalize_steps(result, n, result.inputs, x, xhat)
        out["n_matrix"] = matrix_steps(result, n.analysis, samples, xhat, lhs, "normalized.", False)
        out["n_eigen"] = eigen_steps(
            n.analysis, digits, layout, "normalized.", replace(H, hat=True)
        )
        out["n_condition"] = condition_step(n.analysis, digits, layout, "normalized.")
    return out


def printed(result: Hessian, notation: Notation) -> dict:
    """The view: the steps by section, and the numbers the sentences around them quote."""
    digits = result.digits
    a, n = result.analysis, result.normalized
    steps = _steps(result, notation)
    return {
        "steps": steps,
        "wrt": notation.symbol(result.wrt),
        "loss": notation.symbol(notation.graph.loss),
        "data": notation.symbol(result.data) if result.data else None,
        "samples": result.samples,
        "exact": a.exact,
        "n_exact": n is None or n.analysis.exact,
        "formula": a.factor is not None,
        "mean_form": a.factor is not None and a.factor == Fraction(1, max(result.samples, 1)),
        "kappa": shown(a.condition, digits) if a.condition is not None else None,
        "n_kappa": (
            shown(n.analysis.condition, digits)
            if n is not None and n.analysis.condition is not None
            else None
        ),
        "normalized": n is not None,
        "row": result.layout == "row",
        "given": shown_given,
    }


def steps_json(result: Hessian, ex: ExerciseDef, trace, notation: Notation) -> list[dict]:
    """key.json `steps` (STEPS.md): every claim of the printed lines, in order."""
    return [
        e
        for section in _steps(result, notation).values()
        for step in section
        for e in step_entries(step)
    ]

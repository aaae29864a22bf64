"""Batch and layer normalization of a matrix: `batchnorm(x, gamma, beta, eps=…)` in
training mode (the batch's mean and biased variance) normalises each feature over the
samples — each row across its columns in the column layout (features × samples), each
column across its rows with `layout: row` — and `layernorm(x, gamma, beta, eps=…)` each
sample over its features. gamma and beta hold one value per feature. Not rational (a
square root): float64.

The key works them as a textbook does, on lines of their own (the op's stages):
μ = mean(x), σ² = mean((x − μ)²), x̂ = (x − μ) / √(σ² + ε), then y = γ ⊙ x̂ + β; and
backward ∂L/∂x̂ = g ⊙ γ, then the three-term
∂L/∂x = (m ∂L/∂x̂ − ∑ ∂L/∂x̂ − x̂ ⊙ ∑(∂L/∂x̂ ⊙ x̂)) / (m √(σ² + ε)), m the count normalised
over, the sums along the normalised axis; ∂L/∂γ = ∑ g ⊙ x̂ and ∂L/∂β = ∑ g over the
samples (the generic sum over a broadcast axis). Under carried rounding every stage is
rounded before the next uses it, as a student's would be.

batchnorm also takes a batch of images N×C×H×W: each channel normalised over N, H and W
(PyTorch's `F.batch_norm` on 4-D input), gamma and beta one value per channel; μ, σ² and
the backward's two sums are then one value per channel, kept (and printed) as a column
of C values and computed against the batch as 1×C×1×1; the sums are ∑ₙ,ᵢ,ⱼ (batchsum)
and m = N·H·W."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import POSITIVE, Op, register
from exgen.engine.rounding import to_fraction
from exgen.language import N_
from exgen.typeset.formula import Sym
from exgen.typeset.terms import Context, Spelling, Symbol, apply, leaf, product

EPS = Fraction(1, 100_000)  # PyTorch's default
# the no_variance_near_zero constraint: a feature (batch norm) or a sample (layer norm)
# whose variance is below this many eps is refused — x̂ would divide by (almost) √ε
NEAR_ZERO_VARIANCE = 1000


def _same(a):
    return a


def _numbers(a) -> np.ndarray:
    """An operand as floats, unless it holds exact numbers (an object array)."""
    a = np.asarray(a)
    return a if a.dtype == object else a.astype(float)


def _floats(a) -> np.ndarray:
    return np.asarray(a, dtype=float)


def _column(a: np.ndarray) -> np.ndarray:
    """A per-channel statistic of a batch of images (1×C×1×1) as the column of C values
    it is printed as; a matrix's as it is."""
    return a.reshape(-1, 1) if a.ndim == 4 else a


def _against(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A statistic kept as a column (_column) back in the shape it is computed in."""
    return a.reshape(1, -1, 1, 1) if x.ndim == 4 else a


def _exact_if(a: np.ndarray, exact: bool) -> np.ndarray:
    """Float results back to the exact decimals they print as (under carried rounding)."""
    return np.vectorize(to_fraction, otypes=[object])(a) if exact else a


def decimal_text(x: Fraction) -> str:
    """A given number as plain decimals (0.00001, not 1e-05)."""
    return format(Decimal(x.numerator) / Decimal(x.denominator), "f")


def code(over_samples: bool, unit_axis: int, eps: Fraction) -> tuple[str, str, tuple]:
    """The PyTorch and NumPy spellings and the NumPy backward (one per operand)."""
    a = 1 - unit_axis if over_samples else unit_axis
    e = float(eps)
    params = "{1}.reshape(-1), {2}.reshape(-1)"
    x, back = ("{0}", "") if unit_axis == 1 else ("{0}.T", ".T")  # torch: samples × features
    if over_samples:
        call = f"torch.nn.functional.batch_norm({x}, None, None, {params}, training=True, eps={e})"
    else:
        features = f"({{0}}.shape[{unit_axis}],)"
        call = f"torch.nn.functional.layer_norm({x}, {features}, {params}, eps={e})"
    mean = f"np.mean({{0}}, axis={a}, keepdims=True)"
    root = f"np.sqrt(np.var({{0}}, axis={a}, keepdims=True) + {e})"
    xhat = f"(({{0}} - {mean}) / {root})"
    dxhat = "({g} * {1})"
    s = 1 - unit_axis  # γ, β: summed over the samples
    grads = (
        f"({dxhat} - np.mean({dxhat}, axis={a}, keepdims=True) - {xhat} * "
        f"np.mean({dxhat} * {xhat}, axis={a}, keepdims=True)) / {root}",
        f"np.sum({{g}} * {xhat}, axis={s}).reshape({{1}}.shape)",
        f"np.sum({{g}}, axis={s}).reshape({{2}}.shape)",
    )
    return call + back, f"{{1}} * {xhat} + {{2}}", grads


class _Norm(Op):
    rational = False
    elementwise_local = False
    in_equations = True
    arity = 3
    keywords: ClassVar[dict[str, tuple]] = {"eps": POSITIVE}
    architecture = None
    gradient_uses = "others"
    kinks = ()
    saturates = None
    shape_rule = "normalize"
    tensors = True  # batch norm of a batch of images N×C×H×W, per channel (graph: refused
    # for layer norm and for a single image, with the reason)
    noted_inputs = (0,)  # the gradient note explains the three-term line's sums and m
    stage_names = ("mean", "var", "xhat")
    grad_stage_names = ("grad.xhat", "sum", "spread")
    over_samples: bool  # batch norm: over the samples; layer norm: over the features

    def __init__(self, eps=EPS, unit_axis: int = 0):
        self.eps = Fraction(eps)
        self.unit_axis = unit_axis
        self.images = False  # batch norm of a batch of images, per channel (on_images)
        # the axis normalised over (samples or features) in the op's own orientation
        self.axis = 1 - unit_axis if self.over_samples else unit_axis
        self.torch, self.numpy, self.numpy_grad = code(self.over_samples, unit_axis, self.eps)

    def on_images(self) -> None:
        """A batch of images N×C×H×W (the graph's shape rule): PyTorch takes it as it is,
        the key sums over N, H and W."""
        self.images = True
        params = "{1}.reshape(-1), {2}.reshape(-1)"
        self.torch = (
            f"torch.nn.functional.batch_norm({{0}}, None, None, {params}, training=True, "
            f"eps={float(self.eps)})"
        )
        self.gradient_note = N_(
            "(∑ₙ,ᵢ,ⱼ sums over the samples and the pixels of each channel, m = N·H·W of "
            "them, as the channel's mean μ and biased variance σ² do)"
        )

    @classmethod
    def built(cls, keywords: dict, unit_axis: int) -> _Norm:
        return cls(keywords.get("eps", EPS), unit_axis)

    # numbers ------------------------------------------------------------------------
    def staged(self, xs, carry=_same) -> dict[str, np.ndarray]:
        """μ, σ², x̂ and the output, each through ``carry`` before the next uses it. The
        inputs are floats, or, under carried rounding, exact decimals (object arrays of
        Fractions): then everything but the square root's quotient is exact, as the
        printed steps' check works it out (float64 would round −0.055 to −0.05)."""
        x, gamma, beta = (_numbers(v) for v in xs)
        exact = x.dtype == object
        eps = self.eps if exact else float(self.eps)
        axes, m = self.over(x)
        mean = carry(x.sum(axis=axes, keepdims=True) / m)
        var = carry(((x - mean) ** 2).sum(axis=axes, keepdims=True) / m)
        xhat = _exact_if(carry(_floats(x - mean) / np.sqrt(_floats(var + eps))), exact)
        out = carry(gamma * xhat + beta)
        return {"mean": _column(mean), "var": _column(var), "xhat": xhat, "out": out}

    def over(self, x: np.ndarray) -> tuple:
        """The axes normalised over and how many values each mean takes (m): a batch of
        images per channel over N, H and W; a matrix along the op's axis."""
        if x.ndim == 4:
            return (0, 2, 3), x.size // x.shape[1]
        return self.axis, x.shape[self.axis]

    def forward(self, x, gamma, beta):
        return self.staged((x, gamma, beta))["out"]

    def staged_backward(self, g, xs, stages, carry=_same):
        """The inputs' gradients from the (carried) stages, and ∂L/∂x̂ with the two sums
        of the three-term formula (carried); exact but for the square root, as above."""
        x, gamma = (_numbers(v) for v in xs[:2])
        g = _numbers(g)
        exact = x.dtype == object
        eps = self.eps if exact else float(self.eps)
        xhat, var = stages["xhat"], _against(stages["var"], x)
        axes, m = self.over(x)
        dxhat = carry(g * gamma)
        total = carry(dxhat.sum(axis=axes, keepdims=True))
        spread = carry((dxhat * xhat).sum(axis=axes, keepdims=True))
        top = _floats(m * dxhat - total - xhat * spread)
        dx = _exact_if(top / (m * np.sqrt(_floats(var + eps))), exact)
        s = axes if x.ndim == 4 else 1 - self.unit_axis  # γ, β: over what they broadcast
        dgamma = (g * xhat).sum(axis=s, keepdims=True)
        dbeta = g.sum(axis=s, keepdims=True)
        stages = {"grad.xhat": dxhat, "sum": _column(total), "spread": _column(spread)}
        return (dx, dgamma, dbeta), stages

    def backward(self, g, xs, out):
        return self.staged_backward(g, xs, self.staged(xs))[0]

    def near_zero(self, *xs) -> bool:
        """Some feature's (batch norm) or sample's (layer norm) variance below
        NEAR_ZERO_VARIANCE · eps: the no_variance_near_zero constraint."""
        x = np.asarray(xs[0], dtype=float)
        var = x.var(axis=self.over(x)[0])
        return bool(np.any(var < NEAR_ZERO_VARIANCE * float(self.eps)))

    # the key --------------------------------------------------------------------------
    def stage_symbol(self, stage: str, x, known: dict):
        """μ_z, σ²_z and ẑ for an input z (x when it has no symbol of its own); the
        backward's sums are written as what they are (∑ ∂L/∂ẑ)."""
        if stage in ("sum", "spread"):
            return self.stage_term(stage, (x, None), known, Context())
        base = x.formula if isinstance(x, Symbol) and isinstance(x.formula, Sym) else None
        name = (base.base + base.sub) if base is not None else "x"
        # one per feature (batch norm) or per sample (layer norm): one number for a sample
        vector = self.over_samples or getattr(x, "rank", 2) == 2
        if stage == "mean":
            return Symbol(Sym("μ", sub=name, bold=vector), rank=int(vector))
        if stage == "var":
            return Symbol(Sym("σ", sub=name, sup="2", bold=vector), rank=int(vector))
        hat = replace(base, hat=True) if base is not None else Sym("x", bold=True, hat=True)
        return Symbol(hat, rank=4 if self.images else 2)

    def _eps(self, ctx: Context):
        return leaf(decimal_text(self.eps)) if ctx.extra.get("numeric") else Symbol(Sym("ε"))

    def _root(self, var, ctx: Context):
        return apply("sqrt", apply("add", var, self._eps(ctx)))

    def stage_term(self, stage: str, args: tuple, stages: dict, ctx: Context):
        """How a stage is computed from the inputs (``args``) and the stages before it
        (``stages``), as symbols or with the printed numbers put in."""
        x, gamma = args[0], args[1]
        a = self.axis
        images = self.images  # a batch of images: per channel
        if stage in ("mean", "var") and images:  # per channel: ∑ₙ,ᵢ,ⱼ … / (N·H·W)
            m = leaf(str(self.over(np.empty(ctx.extra["input_shape"]))[1]))
            of = x if stage == "mean" else apply("pow", apply("sub", x, stages["mean"]), leaf("2"))
            return apply("div", apply("batchsum", of), m)
        if stage == "mean":
            return apply("mean", x, axis=a)
        if stage == "var":
            return apply("mean", apply("pow", apply("sub", x, stages["mean"]), leaf("2")), axis=a)
        if stage == "xhat":
            return apply("div", apply("sub", x, stages["mean"]), self._root(stages["var"], ctx))
        if stage == "grad.xhat":
            return product(ctx.extra["g"], gamma, scalar=False)
        if stage in ("sum", "spread"):
            dxhat, xhat = stages["grad.xhat"], stages["xhat"]
            of = dxhat if stage == "sum" else product(dxhat, xhat, scalar=False)
            return apply("batchsum", of) if images else apply("sum", of, axis=a)
        raise ValueError(f"{self.name} has no stage {stage!r}")

    def substituted(self, args, ctx):
        """γ ⊙ x̂ + β with the stage x̂ (its symbol or its printed values) where the key
        works the stages; otherwise by name, BN(z, γ, β)."""
        stages = ctx.extra.get("stages")
        if stages is None:
            return apply(self.name, *args)
        return apply("add", product(args[1], stages["xhat"], scalar=False), args[2])

    def adjoint(self, i, g, args, out, ctx):
        stages = ctx.extra["stages"]
        xhat = stages["xhat"]
        if i == 1:  # summed over the samples by the generic rule for a broadcast operand
            return product(g, xhat, scalar=False)
        if i == 2:
            return g
        m = leaf(str(self.over(ctx.extra["operands"][0])[1]))
        top = apply(
            "sub",
            apply("sub", product(m, stages["grad.xhat"], scalar=True), stages["sum"]),
            product(xhat, stages["spread"], scalar=False),
        )
        return apply("div", top, product(m, self._root(stages["var"], ctx), scalar=True))

    def example(self, args, ctx):
        return None  # the stages are the worked lines


@register
class BatchNorm(_Norm):
    name = "batchnorm"
    spelling = Spelling("func", "BN", r"\operatorname{BN}")
    glyph = "BN"
    over_samples = True
    torch, numpy, numpy_grad = code(True, 0, EPS)  # an instance: its own eps and layout
    gradient_note = N_(
        "(∑ₙ sums over the samples of each feature, m of them in the batch, as the mean "
        "μ and the biased variance σ² do)"
    )


@register
class LayerNorm(_Norm):
    name = "layernorm"
    spelling = Spelling("func", "LN", r"\operatorname{LN}")
    glyph = "LN"
    over_samples = False
    tensors = False  # of a sample's features only: images are refused by the graph
    torch, numpy, numpy_grad = code(False, 0, EPS)  # an instance: its own eps and layout
    gradient_note = N_(
        "(∑ₖ sums over the features of each sample, m of them, as the mean μ and the "
        "biased variance σ² do)"
    )

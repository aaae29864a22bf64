"""Max- and average pooling of a one-channel H×W map: `maxpool(x, size=2, stride=size)`
and `avgpool(x, size=2, stride=size)`, as PyTorch's max_pool2d/avg_pool2d (no padding).
Rational. Max-pooling routes each window's gradient to the window's maximum; at a tie to
the first maximum in row-major order within the window, as torch 2.13 does. Average
pooling spreads it evenly over the window. With non-overlapping windows (stride = size)
the key writes the backward as M ⊙ (g ⊗ 𝟏) (M the argmax mask, ⊗ the Kronecker product
that copies each entry of g over its window) and (g ⊗ 𝟏) / size²; otherwise as the
routed values."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import numpy as np

from exgen.engine.ops.base import Misfit, Op, like, register
from exgen.engine.ops.conv import size_formula
from exgen.language import N_
from exgen.typeset.formula import Num, Script, Text
from exgen.typeset.terms import (
    Apply,
    Call,
    Context,
    Leaf,
    Spelling,
    Symbol,
    apply,
    leaf,
    printed_rows,
    product,
)

SIZES = (1, 2, 3, 4, 5)
_WINDOWS = "np.lib.stride_tricks.sliding_window_view({{0}}, ({s}, {s}))[::{t}, ::{t}]"
# flat index, in x, of each window's entry k (row-major within the window)
_AT = (
    "(np.arange({{out}}.shape[0])[:, None, None] * {t} + {k} // {s}) * {{0}}.shape[1]"
    " + np.arange({{out}}.shape[1])[None, :, None] * {t} + {k} % {s}"
)


def windows(shape: tuple, size: int, stride: int):
    """The output's shape and, per output entry, its window's slices of the input."""
    rows, cols = ((n - size) // stride + 1 for n in shape)
    return (rows, cols), [
        [
            (slice(i * stride, i * stride + size), slice(j * stride, j * stride + size))
            for j in range(cols)
        ]
        for i in range(rows)
    ]


def first_max(window: np.ndarray) -> tuple[int, int]:
    """The position of a window's maximum: the first in row-major order at a tie."""
    flat = list(window.ravel())
    k = flat.index(max(flat))
    return divmod(k, window.shape[1])


def argmax_mask(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """1 where an entry is its window's (first) maximum, else 0."""
    mask = np.zeros(x.shape, dtype=int)
    for line in windows(x.shape, size, stride)[1]:
        for rs, cs in line:
            a, b = first_max(x[rs, cs])
            mask[rs.start + a, cs.start + b] = 1
    return mask


def _per_map(x: np.ndarray, map_fn) -> np.ndarray:
    """map_fn on an H×W map, or on each map of an image C×H×W or a batch N×C×H×W."""
    if x.ndim == 2:
        return map_fn(x)
    return np.stack([_per_map(part, map_fn) for part in x])


def torch_code(kind: str, s: int, t: int, maps: bool = False) -> str:
    """PyTorch's pooling of one map (lifted to a 1×1×H×W batch and back), or of an image
    C×H×W (unbatched) or a batch as they are (``maps``)."""
    fn = "max_pool2d" if kind == "max" else "avg_pool2d"
    if maps:
        return f"torch.nn.functional.{fn}({{0}}, {s}, {t})"
    return f"torch.nn.functional.{fn}({{0}}[None, None], {s}, {t})[0, 0]"


def code(kind: str, s: int, t: int) -> tuple[str, str, tuple[str]]:
    """The PyTorch and NumPy spellings and the NumPy backward, for size s and stride t."""
    torch = torch_code(kind, s, t)
    reduce = "max" if kind == "max" else "mean"
    numpy = f"np.{reduce}({_WINDOWS.format(s=s, t=t)}, axis=(2, 3))"
    if kind == "max":
        k = (
            f"np.argmax({_WINDOWS.format(s=s, t=t)}.reshape({{out}}.shape + ({s * s},)),"
            " axis=2)[:, :, None]"
        )
        at = _AT.format(s=s, t=t, k=k)
        weights = "{g}[:, :, None]"
    else:
        at = _AT.format(s=s, t=t, k=f"np.arange({s * s})[None, None, :]")
        weights = f"np.repeat({{g}}[:, :, None], {s * s}, axis=2) / {s * s}"
    grad = (
        f"np.bincount(({at}).ravel(), weights=({weights}).ravel(), "
        "minlength={0}.size).reshape({0}.shape)"
    )
    return torch, numpy, (grad,)


class _Pool(Op):
    rational = True
    elementwise_local = False
    in_equations = True
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {"size": SIZES, "stride": SIZES}
    architecture = "spatial"
    gradient_uses = "input"
    kinks = ()
    saturates = None
    shape_rule = "own"
    tensors = True
    ties = "no_pool_ties"
    kind: str  # "max" or "avg"
    routed_note: str  # the gradient note when the windows overlap or leave gaps

    def __init__(self, size: int = 2, stride: int | None = None):
        self.size = int(size)
        self.stride = int(stride if stride is not None else size)
        self.torch, self.numpy, self.numpy_grad = code(self.kind, self.size, self.stride)
        self.tiles = self.stride == self.size  # the windows cover the map, once each
        if not self.tiles:
            self.gradient_note = self.routed_note

    def kwargs(self, ctx: Context) -> dict:
        out = {} if self.size == 2 else {"size": self.size}
        return out if self.stride == self.size else dict(out, stride=self.stride)

    def shape(self, *shapes: tuple) -> tuple[tuple[int, ...], int]:
        (x,) = shapes
        """Each H×W map pooled: (H − size) // stride + 1 by (W − size) // stride + 1."""
        size, stride = self.size, self.stride
        if len(x) < 2 or x == (1, 1) or x[-1] < size or x[-2] < size:
            where = "{0}, {d0}" if len(x) > 1 and 1 not in x[-2:] else "{0} ({d0})"
            raise Misfit(
                f"the {size}×{size} window of '{{expr}}' does not fit the map {where}: "
                f"pooling takes H×W maps (alone, in an image C×H×W or in a batch "
                f"N×C×H×W) of at least {size}×{size}",
                blame=0,
            )
        out = (*x[:-2], (x[-2] - size) // stride + 1, (x[-1] - size) // stride + 1)
        if len(x) > 2:
            self.torch = torch_code(self.kind, size, stride, maps=True)
        if self.tiles and (len(x) > 2 or x[-2] % size or x[-1] % size):
            # rows or columns left over (or maps of an image): the routed values
            self.tiles = False
            self.gradient_note = self.routed_note
        return out, len(x)

    def size_arithmetic(self, *shapes: tuple) -> list[str]:
        """(W − size)/stride + 1 per direction: a convolution's formula without padding."""
        (x,) = shapes
        return [
            f"{what}: {size_formula(n, self.size, self.stride, 0)}"
            for what, n in zip(("height", "width"), x[-2:])
        ]

    def forward(self, x):
        return _per_map(x, self._forward_map)

    def _forward_map(self, x):
        shape, wins = windows(x.shape, self.size, self.stride)
        out = np.empty(shape, dtype=x.dtype)
        for i, line in enumerate(wins):
            for j, (rs, cs) in enumerate(line):
                w = x[rs, cs]
                out[i, j] = w.max() if self.kind == "max" else w.sum() / self._count(x)
        return out

    def tied(self, *xs) -> bool:
        (x,) = xs
        if self.kind != "max":
            return False
        for index in np.ndindex(*x.shape[:-2]):
            for line in windows(x[index].shape, self.size, self.stride)[1]:
                for rs, cs in line:
                    flat = list(x[index][rs, cs].ravel())
                    if flat.count(max(flat)) > 1:
                        return True
        return False

    def _count(self, x):
        n = self.size * self.size
        return Fraction(n) if x.dtype == object else float(n)

    def backward(self, g, xs, out):
        (x,) = xs
        grad = like(x, np.zeros(x.shape, dtype=int))
        for index in np.ndindex(*x.shape[:-2]):  # each H×W map of an image or a batch
            grad[index] = self._backward_map(g[index], x[index])
        return (grad,)

    def _backward_map(self, g, x):
        grad = like(x, np.zeros(x.shape, dtype=int))
        for i, line in enumerate(windows(x.shape, self.size, self.stride)[1]):
            for j, (rs, cs) in enumerate(line):
                if self.kind == "max":
                    a, b = first_max(x[rs, cs])
                    grad[rs.start + a, cs.start + b] += g[i, j]
                else:
                    grad[rs, cs] += g[i, j] / self._count(x)
        return grad

    def _spread(self, g, ctx: Context):
        """g ⊗ 𝟏: each entry of g copied over its (non-overlapping) window."""
        ones: Leaf | Symbol
        if ctx.extra.get("numeric"):
            ones = Leaf(tuple(("1",) * self.size for _ in range(self.size)), 2)
        else:
            ones = Symbol(Script(Text("𝟏"), sub=Num(f"{self.size}×{self.size}")), rank=2)
        return apply("kron", g, ones)

    def adjoint(self, i, g, args, out, ctx: Context):
        numeric = ctx.extra.get("numeric")
        if not self.tiles:  # overlapping windows, gaps or a remainder: the routed values
            if not numeric:  # unpool: each entry of g back to its window's entries
                return Call("unpool", (g,), latex=r"\operatorname{unpool}")
            (x,) = ctx.extra["operands"]
            n = self.size * self.size
            scale = 1 if self.kind == "max" else n  # each window's whole gradient (avg: / n)
            whole = np.vectorize(lambda c: Fraction(c) * scale, otypes=[object])(
                np.array(g.rows, dtype=object)
            )
            # in exact arithmetic, whatever the network's: the sums of printed numbers,
            # with x only saying where each window's maximum is
            exact_x = np.vectorize(Fraction, otypes=[object])(x)
            routed = _decimals(self.backward(whole, (exact_x,), None)[0], g, max(x.ndim, 2))
            return routed if self.kind == "max" else apply("div", routed, leaf(str(n)))
        spread = self._spread(g, ctx)
        if self.kind == "avg":
            return apply("div", spread, leaf(str(self.size * self.size)))
        if numeric:
            (x,) = ctx.extra["operands"]
            mask = argmax_mask(x, self.size, self.stride)
            m: Leaf | Symbol = Leaf(tuple(tuple(str(v) for v in r) for r in mask), 2)
        else:
            m = Symbol(Text("M"), rank=2)
        return product(m, spread, scalar=False)

    def example(self, args, ctx):
        """(p)₁,₁ = max(0.1, 0.5, −0.2, 0.3) or (0.1 + 0.5 − 0.2 + 0.3) / 4: the first
        window."""
        rows, (i, j) = ctx.extra.get("input_rows"), ctx.extra.get("at", (0, 0))
        if rows is None:
            return None
        t, s = self.stride, self.size
        cells = [c for r in rows[i * t : i * t + s] for c in r[j * t : j * t + s]]
        if self.kind == "max":
            return [apply("max", *(leaf(c) for c in cells))]
        total: Leaf | Apply = leaf(cells[0])
        for c in cells[1:]:
            total = apply("add", total, leaf(c))
        return [apply("div", total, leaf(str(len(cells))))]


def _decimals(values: np.ndarray, g: Leaf, rank: int) -> Leaf:
    """Sums of g's printed entries, printed with as many decimals as g's (exact)."""
    cells = np.array(g.rows, dtype=object).reshape(-1)
    places = max((len(c.split(".")[1]) if "." in c else 0) for c in cells)

    def text(v: Fraction) -> str:
        return f"{Decimal(v.numerator) / Decimal(v.denominator):.{places}f}"

    return Leaf(printed_rows(np.vectorize(text, otypes=[object])(values)), rank)


@register
class MaxPool(_Pool):
    name = "maxpool"
    spelling = Spelling("func", "maxpool", r"\operatorname{maxpool}")
    glyph = "maxpool"
    kind = "max"
    torch, numpy, numpy_grad = code("max", 2, 2)
    gradient_note = N_(
        "(M marks each window's maximum, the argmax mask: the gradient of each output "
        "entry goes to that entry only; at a tie to the first maximum in row-major order "
        "within the window, as PyTorch's max_pool2d does; g ⊗ 𝟏 copies each entry of g "
        "over its window)"
    )
    routed_note = N_(
        "(unpool routes the gradient of each output entry to its window's maximum and "
        "adds where windows overlap; entries in no window get 0; at a tie to the first maximum in row-major order "
        "within the window, as PyTorch's max_pool2d does)"
    )


@register
class AvgPool(_Pool):
    name = "avgpool"
    spelling = Spelling("func", "avgpool", r"\operatorname{avgpool}")
    glyph = "avgpool"
    kind = "avg"
    torch, numpy, numpy_grad = code("avg", 2, 2)
    gradient_note = N_(
        "(g ⊗ 𝟏 copies each entry of g over its window: every entry of a window gets "
        "an equal share of the window's gradient)"
    )
    routed_note = N_(
        "(unpool gives every entry of a window the window's gradient, added where windows "
        "overlap, and 0 to entries in no window; divided by the window's size, each "
        "entry's equal share)"
    )


@register
class Kron(Op):
    """The Kronecker product a ⊗ b: each entry of a times the whole of b (pooling's
    backward writes g ⊗ 𝟏 for g copied over each window). Not for equations."""

    name = "kron"
    rational = True
    elementwise_local = False
    in_equations = False
    arity = 2
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("infix", "⊗", r"\otimes", 2)
    torch = "torch.kron({0}, {1})"
    numpy = "np.kron({0}, {1})"
    numpy_grad = (
        "np.einsum('ipjq,pq->ij', {g}.reshape({0}.shape[0], {1}.shape[0], {0}.shape[1], "
        "{1}.shape[1]), {1})",
        "np.einsum('ipjq,ij->pq', {g}.reshape({0}.shape[0], {1}.shape[0], {0}.shape[1], "
        "{1}.shape[1]), {0})",
    )
    glyph = "⊗"
    architecture = None
    gradient_uses = "others"
    kinks = ()
    saturates = None
    shape_rule = "kron"
    tensors = False

    def forward(self, a, b):
        return np.kron(a, b)

    def backward(self, g, xs, out):
        a, b = xs
        g4 = g.reshape(a.shape[0], b.shape[0], a.shape[1], b.shape[1])
        ga = np.empty(a.shape, dtype=g.dtype)
        gb = np.empty(b.shape, dtype=g.dtype)
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                ga[i, j] = (g4[i, :, j, :] * b).sum()
        for p in range(b.shape[0]):
            for q in range(b.shape[1]):
                gb[p, q] = (g4[:, p, :, q] * a).sum()
        return ga, gb

    def adjoint(self, i, g, args, out, ctx):
        return None

    def example(self, args, ctx):
        return None

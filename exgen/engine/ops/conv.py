"""conv2d(x, k, stride=1, padding=0): cross-correlation of a one-channel H×W image with a
kh×kw kernel, as PyTorch's F.conv2d (output (H + 2P − kh)//S + 1 × (W + 2P − kw)//S + 1).
Rational. Backward: ∂L/∂k is the correlation of the (padded) input with the upstream
gradient (spread out by the stride), ∂L/∂x the full correlation of the upstream gradient
with the kernel turned by 180°, cropped to the image."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from exgen.engine.ops.base import Misfit, Op, dims, register
from exgen.language import N_
from exgen.typeset.terms import Call, Context, Leaf, Spelling, Stack, apply, leaf, product

WINDOWS = "np.lib.stride_tricks.sliding_window_view"


def _zeros(x: np.ndarray, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=x.dtype)
    if x.dtype == object:
        out[...] = Fraction(0)
    return out


def _per_sample(x: np.ndarray, image_fn) -> np.ndarray:
    """image_fn on one image C×H×W, or on each sample of a batch N×C×H×W."""
    if x.ndim == 3:
        return image_fn(x)
    return np.stack([image_fn(img) for img in x])


def padded(x: np.ndarray, p: int) -> np.ndarray:
    if not p:
        return x
    out = _zeros(x, (x.shape[0] + 2 * p, x.shape[1] + 2 * p))
    out[p:-p, p:-p] = x
    return out


def out_size(n: int, k: int, stride: int, padding: int) -> int:
    return (n + 2 * padding - k) // stride + 1


def size_formula(n: int, k: int, stride: int, padding: int) -> str:
    """(n + 2P − k)/S + 1 = out, written out; ⌊⌋ where the division is not exact."""
    top = f"{n} + 2·{padding} − {k}" if padding else f"{n} − {k}"
    inner = f"({top})/{stride}" if stride != 1 else f"({top})"
    if (n + 2 * padding - k) % stride:
        inner = f"⌊{inner}⌋"
    return f"{inner} + 1 = {out_size(n, k, stride, padding)}"


def correlate(xp: np.ndarray, k: np.ndarray, s: int = 1) -> np.ndarray:
    """Cross-correlation of an (already padded) image with a kernel, at stride s."""
    kh, kw = k.shape
    rows, cols = (xp.shape[0] - kh) // s + 1, (xp.shape[1] - kw) // s + 1
    out = _zeros(xp if xp.dtype == object else k, (rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (xp[s * i : s * i + kh, s * j : s * j + kw] * k).sum()
    return out


# ---- printed numbers (the key's numeric lines) --------------------------------------


def _zero(text: str) -> str:
    """A printed 0 with as many decimals as ``text``."""
    decimals = text.split(".")[1] if "." in text else ""
    return "0." + "0" * len(decimals) if decimals else "0"


def _grid(rows: tuple, top: int, left: int, height: int, width: int, step: int = 1) -> tuple:
    """Printed rows placed ``step`` apart at (top, left) in a height×width grid of zeros
    (negative top/left crop); entries outside the grid are dropped."""
    zero = _zero(rows[0][0])
    grid = [[zero] * width for _ in range(height)]
    for i, r in enumerate(rows):
        for j, c in enumerate(r):
            a, b = top + step * i, left + step * j
            if 0 <= a < height and 0 <= b < width:
                grid[a][b] = c
    return tuple(tuple(r) for r in grid)


def _is_zero(text: str) -> bool:
    return float(text) == 0


def window_sum(
    x_rows: tuple, k_rows: tuple, i: int, j: int, stride: int = 1, nonzero=False, total=None
):
    """Entry (i, j) of a correlation of printed rows: the window times the kernel, added
    term by term (x₁·k₁ + x₂·k₂ + …) after ``total`` (the channels before, if any);
    ``nonzero``: only the products without a zero factor (the zeros of padding and
    stride), None when there are none."""
    for a, kr in enumerate(k_rows):
        for b, kv in enumerate(kr):
            xv = x_rows[stride * i + a][stride * j + b]
            if nonzero and (_is_zero(xv) or _is_zero(kv)):
                continue
            t = product(leaf(xv), leaf(kv), scalar=True)
            total = t if total is None else apply("add", total, t)
    return total


def _code(s: int, p: int) -> tuple[str, str, tuple[str, str]]:
    """The PyTorch spelling, the NumPy spelling and its backward at stride s, padding p."""
    torch = (
        "torch.nn.functional.conv2d({0}[None, None], {1}[None, None], "
        f"stride={s}, padding={p})[0, 0]"
    )
    windows = f"{WINDOWS}(np.pad({{0}}, {p}), {{1}}.shape)[::{s}, ::{s}]"
    numpy = f"np.einsum('ijkl,kl->ij', {windows}, {{1}})"
    # ∂L/∂x: g spread out by the stride, padded for the full correlation, with the
    # kernel turned by 180°, cropped to the image
    spread = f"np.kron({{g}}, np.eye(1, {s * s}).reshape({s}, {s}))"
    size = f"{{0}}.shape[0] + {2 * p}, :{{0}}.shape[1] + {2 * p}"
    full = (
        f"np.pad({spread}, (({{1}}.shape[0] - 1, {{0}}.shape[0] + {2 * p}), "
        f"({{1}}.shape[1] - 1, {{0}}.shape[1] + {2 * p})))"
    )
    grads = (
        f"np.einsum('ijkl,kl->ij', {WINDOWS}({full}, {{1}}.shape)[:{size}], "
        f"{{1}}[::-1, ::-1])[{p}:{p} + {{0}}.shape[0], {p}:{p} + {{0}}.shape[1]]",
        f"np.einsum('ijkl,ij->kl', {windows}, {{g}})",
    )
    return torch, numpy, grads


BANK_NOTE = N_(
    "(filter by filter f and channel by channel c: ∂L/∂K_f,c is the image's channel c "
    "correlated with the gradient of output map f, added over the samples; ∂L/∂x_c the "
    "full correlation of each output map's gradient with K_f,c turned by 180°, added over "
    "the filters)"
)


@register
class Conv2d(Op):
    name = "conv2d"
    rational = True
    elementwise_local = False
    in_equations = True
    arity = 2
    keywords: ClassVar[dict[str, tuple]] = {"stride": (1, 2, 3), "padding": (0, 1, 2)}
    spelling = Spelling("func", "conv2d", r"\operatorname{conv2d}")
    glyph = "⋆"
    architecture = "spatial"
    gradient_uses = "others"
    kinks = ()
    saturates = None
    shape_rule = "own"
    tensors = True
    gradient_note = None
    torch, numpy, numpy_grad = _code(1, 0)

    def __init__(self, stride: int = 1, padding: int = 0):
        self.stride, self.padding = int(stride), int(padding)
        self.torch, self.numpy, self.numpy_grad = _code(self.stride, self.padding)

    def kwargs(self, ctx: Context) -> dict:
        out = {}
        if self.stride != 1:
            out["stride"] = self.stride
        if self.padding:
            out["padding"] = self.padding
        return out

    def shape(self, *shapes: tuple) -> tuple[tuple[int, ...], int]:
        """A one-channel H×W image with a kh×kw kernel gives a map; an image C×H×W (or
        a batch N×C×H×W) with kernels F×C×kh×kw gives F maps (per sample)."""
        image, kernel = shapes
        if len(kernel) == 2 and len(image) != 2:
            raise Misfit(
                f"a {dims(kernel)} kernel takes a one-channel H×W image, not {{0}} of "
                f"shape {dims(image)} in {{expr}} (give {{1}} as F×C×kh×kw filters)",
                blame=1,
            )
        if len(kernel) == 4 and len(image) not in (3, 4):
            raise Misfit(
                f"filters {dims(kernel)} (F×C×kh×kw) take an image C×H×W or a batch "
                f"N×C×H×W, not {{0}} of shape {dims(image)} in {{expr}}",
                blame=0,
            )
        if len(kernel) not in (2, 4):
            raise Misfit(
                f"a kernel is kh×kw or F×C×kh×kw, not {{1}} of shape {dims(kernel)} in {{expr}}",
                blame=1,
            )
        if len(kernel) == 4 and kernel[1] != image[-3]:
            raise Misfit(
                f"filters {dims(kernel)} have {kernel[1]} channel(s), the image {{0}} "
                f"({dims(image)}) has {image[-3]} in {{expr}}",
                blame=1,
            )
        (h, w), (kh, kw) = image[-2:], kernel[-2:]
        if kh > h + 2 * self.padding or kw > w + 2 * self.padding:
            raise Misfit(f"kernel {kh}×{kw} does not fit {{expr}} on a {h}×{w} image", blame=1)
        out = (
            out_size(h, kh, self.stride, self.padding),
            out_size(w, kw, self.stride, self.padding),
        )
        if len(kernel) == 2:
            return out, 0 if out == (1, 1) else 1 if out[1] == 1 else 2
        # filters: PyTorch's own layout (an image is its unbatched input)
        self.torch = (
            "torch.nn.functional.conv2d({0}, {1}, "
            f"stride={self.stride}, padding={self.padding})"
        )
        self.gradient_note = BANK_NOTE
        return (*image[:-3], kernel[0], *out), len(image)

    def size_arithmetic(self, *shapes: tuple) -> list[str]:
        """How the output's size follows from the input's: (W + 2P − K)/S + 1 per
        direction (rounded down), and one map per filter."""
        image, kernel = shapes
        out = [
            f"{what}: {size_formula(n, k, self.stride, self.padding)}"
            for what, n, k in zip(("height", "width"), image[-2:], kernel[-2:])
        ]
        if len(kernel) == 4:
            out.append(f"{kernel[0]} filter(s): {kernel[0]} map(s)")
        if len(image) == 4:
            out.append(f"{image[0]} sample(s)")
        return out

    def forward(self, x, k):
        if k.ndim == 2:
            return correlate(padded(x, self.padding), k, self.stride)
        return _per_sample(x, lambda img: self._filters(img, k))

    def _filters(self, img: np.ndarray, k: np.ndarray) -> np.ndarray:
        """One image C×H×W through the filters F×C×kh×kw: F maps, each the sum over the
        channels of their correlations."""
        return np.stack(
            [
                sum(
                    correlate(padded(img[c], self.padding), kf[c], self.stride)
                    for c in range(len(img))
                )
                for kf in k
            ]
        )

    def backward(self, g, xs, out):
        x, k = xs
        if k.ndim == 2:
            return self._backward_map(g, x, k)
        dx = _zeros(x if x.dtype == object else g, x.shape)
        dk = _zeros(x if x.dtype == object else g, k.shape)
        for n in np.ndindex(*x.shape[:-3]):  # () for one image, (i,) per sample
            for f in range(k.shape[0]):
                for c in range(k.shape[1]):
                    gx, gk = self._backward_map(g[n][f], x[n][c], k[f, c])
                    dx[n][c] += gx
                    dk[f, c] += gk
        return dx, dk

    def _backward_map(self, g, x, k):
        s, p = self.stride, self.padding
        xp = padded(x, p)
        kh, kw = k.shape
        dk = _zeros(xp if xp.dtype == object else g, k.shape)
        dxp = _zeros(xp if xp.dtype == object else g, xp.shape)
        oh, ow = g.shape
        for a in range(kh):
            for b in range(kw):
                dk[a, b] = (
                    g * xp[a : a + s * (oh - 1) + 1 : s, b : b + s * (ow - 1) + 1 : s]
                ).sum()
        for i in range(oh):
            for j in range(ow):
                dxp[s * i : s * i + kh, s * j : s * j + kw] += g[i, j] * k
        return dxp[p : p + x.shape[0], p : p + x.shape[1]], dk

    def substituted(self, args, ctx):
        """With the numbers put in, the image is printed with its zero padding."""
        x, k = args
        if isinstance(x, Leaf) and x.rank and self.padding:
            p = self.padding
            h, w = len(x.rows), len(x.rows[0])
            x = Leaf(_grid(x.rows, p, p, h + 2 * p, w + 2 * p), x.rank)
            settings: dict[str, Any] = {"stride": self.stride} if self.stride != 1 else {}
            return apply(self.name, x, k, **settings)
        return apply(self.name, x, k, **self.kwargs(ctx))

    def adjoint(self, i, g, args, out, ctx):
        s, p = self.stride, self.padding
        x, k = args
        if not ctx.extra.get("numeric"):  # in symbols: the textbook's formulas
            spread = g if s == 1 else Call("dilate", (g, leaf(str(s))))
            if i == 1:
                settings: dict[str, Any] = {"padding": p} if p else {}
                return apply(self.name, x, spread, **settings)
            full = ctx.extra["operands"][1].shape[0] - 1 - p
            settings = {"padding": full} if full else {}
            return apply(self.name, spread, Call("rot180", (k,)), **settings)
        # with the numbers put in: the padding, spreading and turning done on the page
        xv, kv = ctx.extra["operands"]
        if kv.ndim == 2:
            return self._map_adjoint(i, g.rows, x.rows, k.rows, k.rank or 2)
        return self._bank_adjoint(i, g, x, k, xv.ndim)

    def _map_adjoint(self, i: int, g_rows, x_rows, k_rows, k_rank: int = 2):
        """One map's contribution, printed: ∂L/∂k = (padded x, cropped to what the
        windows reach) ⋆ spread g; ∂L/∂x = (spread g, padded to the full correlation,
        cropped to x) ⋆ rot180(k)."""
        s, p = self.stride, self.padding
        (h, w), (kh, kw) = (len(x_rows), len(x_rows[0])), (len(k_rows), len(k_rows[0]))
        oh, ow = len(g_rows), len(g_rows[0])
        if i == 1:
            reach_h, reach_w = s * (oh - 1) + kh, s * (ow - 1) + kw
            xp = Leaf(_grid(x_rows, p, p, reach_h, reach_w), 2)
            spread_g = Leaf(_grid(g_rows, 0, 0, s * (oh - 1) + 1, s * (ow - 1) + 1, s), 2)
            return apply(self.name, xp, spread_g)
        full = Leaf(_grid(g_rows, kh - 1 - p, kw - 1 - p, h + kh - 1, w + kw - 1, s), 2)
        turned = Leaf(tuple(tuple(r[::-1]) for r in k_rows[::-1]), k_rank)
        return apply(self.name, full, turned)

    def _bank_adjoint(self, i: int, g: Leaf, x: Leaf, k: Leaf, rank: int) -> Stack:
        """Filters F×C×kh×kw: ∂L/∂K per filter f and channel c, x_c ⋆ δ_f summed over the
        samples; ∂L/∂x per (sample and) channel c, the sum over the filters f of
        δ_f ⋆ rot180(K_f,c) in full."""
        images = (x.rows,) if rank == 3 else x.rows
        grads = (g.rows,) if rank == 3 else g.rows
        filters, channels = len(k.rows), len(k.rows[0])

        def summed(terms: list):
            total = terms[0]
            for t in terms[1:]:
                total = apply("add", total, t)
            return total

        if i == 1:
            parts = [
                summed(
                    [
                        self._map_adjoint(1, gn[f], xn[c], k.rows[f][c])
                        for xn, gn in zip(images, grads)
                    ]
                )
                for f in range(filters)
                for c in range(channels)
            ]
            return Stack(tuple(parts), (filters, channels), 4)
        parts = [
            summed([self._map_adjoint(0, gn[f], xn[c], k.rows[f][c]) for f in range(filters)])
            for xn, gn in zip(images, grads)
            for c in range(channels)
        ]
        grid = (channels,) if rank == 3 else (len(images), channels)
        return Stack(tuple(parts), grid, rank)

    def example(self, args, ctx):
        """One output entry: its window of the (padded) image times the kernel."""
        rows = ctx.extra.get("operand_rows")
        if not rows:
            return None
        x_rows, k_rows = rows
        i, j = ctx.extra["at"]
        if ctx.ranks[1] == 4:  # the first filter over every channel of the first image
            image = x_rows if ctx.ranks[0] == 3 else x_rows[0]
            pairs = list(zip(image, k_rows[0]))
        else:
            pairs = [(x_rows, k_rows)]
        p = self.padding
        total = None  # one sum over every channel's window, term after term
        for x_map, k_map in pairs:
            if p:
                x_map = _grid(x_map, p, p, len(x_map) + 2 * p, len(x_map[0]) + 2 * p)
            total = window_sum(x_map, k_map, i, j, self.stride, total=total)
        return [total]

    @staticmethod
    def worked_entry(term, rows, i: int, j: int):
        """Entry (i, j) of a printed conv2d term (the backward's "e.g." line)."""
        if any(r is None for r in rows) or term.kw("padding"):
            return None
        return window_sum(rows[0], rows[1], i, j, term.kw("stride", 1), nonzero=True)

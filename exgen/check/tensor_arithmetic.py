"""The printed arithmetic of maps and of what is made of them — images (C×H×W), batches
(N×C×H×W) and filter banks (F×C×kh×kw): a map's correlation with a kernel, its pooling
and the Kronecker product that spreads a gradient over windows; a convolution of an
image as the sum over its channels of each map's correlation, a pooling map by map, a
bias of one value per channel, and a tensor built map by map (`stack`, ∂L/∂K per filter
and channel). Part of the step oracle (step_arithmetic), with its own arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from exgen.check.printed_numbers import StepProblem, as_array, shape_text, stacked_arrays
from exgen.check.step_functions import larger

Map = Callable[[np.ndarray], np.ndarray]


def channel_aligned(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column of one value per channel against an image or a batch: as C×1×1 (1×C×1×1)."""

    def aligned(vector: np.ndarray, tensor: np.ndarray) -> np.ndarray:
        if tensor.ndim > 2 and vector.ndim == 2 and vector.shape[1] == 1:
            channels = tensor.shape[-3]
            if vector.shape[0] == channels:
                return vector.reshape((channels, 1, 1) if tensor.ndim == 3 else (1, channels, 1, 1))
        return vector

    return aligned(a, b), aligned(b, a)


def per_map(a: np.ndarray, map_fn: Map) -> np.ndarray:
    """map_fn on each H×W map of an image or a batch."""
    if a.ndim == 2:
        return map_fn(a)
    return stacked_arrays([per_map(part, map_fn) for part in a])


def filter_bank(x: np.ndarray, k: np.ndarray, correlate: Callable) -> np.ndarray:
    """An image C×H×W (or each image of a batch) through filters F×C×kh×kw: map f is the
    sum over the channels c of correlate(x_c, K_f,c)."""
    if x.ndim not in (3, 4) or k.ndim != 4 or k.shape[1] != x.shape[-3]:
        raise StepProblem(f"filters {shape_text(k)} do not fit an image {shape_text(x)}")
    if x.ndim == 4:
        return stacked_arrays([filter_bank(image, k, correlate) for image in x])
    maps = []
    for kf in k:
        total = correlate(x[0], kf[0])
        for c in range(1, len(x)):
            total = total + correlate(x[c], kf[c])
        maps.append(total)
    return stacked_arrays(maps)


def stacked(parts: list[np.ndarray], grid) -> np.ndarray:
    """Maps laid out as ``grid`` ((C,), (N, C) or (F, C)) as one tensor."""
    if (
        not isinstance(grid, list)
        or not grid
        or not all(isinstance(n, int) and n > 0 for n in grid)
        or int(np.prod(grid)) != len(parts)
    ):
        raise StepProblem(f"a stack of {len(parts)} maps cannot be laid out as {grid!r}")
    shapes = {p.shape for p in parts}
    if len(shapes) != 1 or parts[0].ndim != 2:
        raise StepProblem("the maps of a stack differ in shape")
    return stacked_arrays(parts).reshape(*grid, *parts[0].shape)


def pool(node: dict, a: np.ndarray) -> np.ndarray:
    """Max- or average pooling of a map, or of each map of an image or a batch."""
    return per_map(a, lambda m: _pool_map(node, m)) if a.ndim > 2 else _pool_map(node, a)


def _pool_map(node: dict, a: np.ndarray) -> np.ndarray:
    """Max- or average pooling of a 2-D map: size×size windows every stride entries."""
    size = node.get("size", 2)
    stride = node.get("stride", size)
    if a.ndim != 2 or min(a.shape) < size:
        raise StepProblem(f"{node['op']} of {shape_text(a)}: the {size}×{size} window does not fit")
    rows, cols = ((n - size) // stride + 1 for n in a.shape)
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            cells = list(a[i * stride : i * stride + size, j * stride : j * stride + size].ravel())
            total = cells[0]
            for c in cells[1:]:
                total = larger(total, c) if node["op"] == "maxpool" else total + c
            out[i, j] = total if node["op"] == "maxpool" else total / Fraction(size * size)
    return out


def kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The Kronecker product: a block b·aᵢⱼ for each entry of a."""
    a, b = (x.reshape(1, 1) if x.ndim == 0 else x for x in (a, b))
    out = np.empty((a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]), dtype=object)
    p, q = b.shape
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i * p : (i + 1) * p, j * q : (j + 1) * q] = as_array(a[i, j] * b)
    return out


def conv2d(node: dict, x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Cross-correlation of a printed image with a printed kernel (F.conv2d, one channel),
    or of an image or a batch with a bank of filters F×C×kh×kw."""
    stride, padding = node.get("stride", 1), node.get("padding", 0)
    for key, value, lowest in (("stride", stride, 1), ("padding", padding, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
            raise StepProblem(f"conv2d's {key} {value!r} (expected an integer >= {lowest})")
    if k.ndim == 4:
        return filter_bank(x, k, lambda xm, km: _correlate(xm, km, stride, padding))
    return _correlate(x, k, stride, padding)


def _correlate(x: np.ndarray, k: np.ndarray, stride: int, padding: int) -> np.ndarray:
    x, k = (a.reshape(1, 1) if a.ndim == 0 else a for a in (x, k))
    if x.ndim != 2 or k.ndim != 2:
        raise StepProblem(f"conv2d of {shape_text(x)} with a {shape_text(k)} kernel")
    if padding:
        grown = np.full((x.shape[0] + 2 * padding, x.shape[1] + 2 * padding), Fraction(0))
        grown = grown.astype(object)
        grown[padding:-padding, padding:-padding] = x
        x = grown
    kh, kw = k.shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise StepProblem(f"conv2d of {shape_text(x)} with a {shape_text(k)} kernel")
    out = np.empty(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1), object)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = x[stride * i, stride * j] * k[0, 0]
            for a in range(kh):
                for b in range(kw):
                    if a or b:
                        total = total + x[stride * i + a, stride * j + b] * k[a, b]
            out[i, j] = total
    return out

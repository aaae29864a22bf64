"""The printed arithmetic of images (C×H×W), batches (N×C×H×W) and filter banks
(F×C×kh×kw), map by map: a convolution as the sum over the channels of each map's
correlation, a pooling map by map, a bias of one value per channel, and a tensor built
map by map (`stack`, ∂L/∂K per filter and channel). The arithmetic of one map is the
caller's (step_arithmetic): this module only takes tensors apart and puts them back."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Map = Callable[[np.ndarray], np.ndarray]


class TensorProblem(ValueError):
    """Printed tensors that do not fit together."""


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
    return _stacked([per_map(part, map_fn) for part in a])


def filter_bank(x: np.ndarray, k: np.ndarray, correlate: Callable) -> np.ndarray:
    """An image C×H×W (or each image of a batch) through filters F×C×kh×kw: map f is the
    sum over the channels c of correlate(x_c, K_f,c)."""
    if x.ndim not in (3, 4) or k.ndim != 4 or k.shape[1] != x.shape[-3]:
        raise TensorProblem(f"filters {_dims(k)} do not fit an image {_dims(x)}")
    if x.ndim == 4:
        return _stacked([filter_bank(image, k, correlate) for image in x])
    maps = []
    for kf in k:
        total = correlate(x[0], kf[0])
        for c in range(1, len(x)):
            total = total + correlate(x[c], kf[c])
        maps.append(total)
    return _stacked(maps)


def stacked(parts: list[np.ndarray], grid) -> np.ndarray:
    """Maps laid out as ``grid`` ((C,), (N, C) or (F, C)) as one tensor."""
    if (
        not isinstance(grid, list)
        or not grid
        or not all(isinstance(n, int) and n > 0 for n in grid)
        or int(np.prod(grid)) != len(parts)
    ):
        raise TensorProblem(f"a stack of {len(parts)} maps cannot be laid out as {grid!r}")
    shapes = {p.shape for p in parts}
    if len(shapes) != 1 or parts[0].ndim != 2:
        raise TensorProblem("the maps of a stack differ in shape")
    return _stacked(parts).reshape(*grid, *parts[0].shape)


def _stacked(parts: list[np.ndarray]) -> np.ndarray:
    out = np.empty((len(parts), *parts[0].shape), dtype=object)
    for i, p in enumerate(parts):
        out[i] = p
    return out


def _dims(a: np.ndarray) -> str:
    return "×".join(map(str, a.shape))

"""The `layers:` shorthand, compiled to equations: dense layers (an MLP), and for a small
CNN convolutions, poolings and a flatten before them.

Layer k (1-based, counting every layer, as LeNet's C1, S2, …) gives z_k (u_k before its
activation; the course's own symbols); a dense layer learns W_k and b_k, a convolution
K_k and b_k. The weights' shapes come from the given values; they must agree with what
the layer declares (its units, its filters and kernel size)."""

from __future__ import annotations

import numpy as np

from exgen.define.schema import (
    ConvLayerSpec,
    FlattenLayerSpec,
    LayersNetwork,
    NotationSpec,
    PoolLayerSpec,
)
from exgen.engine.ops.base import dims
from exgen.engine.ops.conv import out_size
from exgen.errors import DefinitionError

LOSS_TEXT = {
    "half_sum": "0.5 * sum(({y} - {t}) ** 2)",
    "half_mean": "0.5 * sum(({y} - {t}) ** 2) / {M}",
    "mse": "mean(({y} - {t}) ** 2)",
    "softmax_ce": "-sum({t} * log({p})) / {M}",
}


def layer_names(net: LayersNetwork, k: int, kind: str = "dense") -> tuple[str, str]:
    """Weight and bias names of layer k (1-based): W1, b1 (column) or W1, B1 (row); a
    convolution's K1, b1."""
    weight = "K" if kind == "conv" else "W"
    return f"{weight}{k}", (f"b{k}" if net.layout == "column" else f"B{k}")


def compile_layers(
    net: LayersNetwork, values: dict[str, np.ndarray], notation: NotationSpec
) -> tuple[list[str], str, list[str]]:
    """Equations, loss name and parameter names for a layers network.

    Raises DefinitionError with a path relative to the exercise."""
    for name in (net.input, net.target):
        if name not in values:
            raise DefinitionError(
                f"missing '{name}' (the layers network reads its "
                f"{'input' if name == net.input else 'target'} from here)",
                path="values",
            )
    output = net.output
    if output in (net.input, net.target):
        raise DefinitionError(
            f"the output name '{output}' is also the "
            f"{'input' if output == net.input else 'target'}; "
            f"choose another",
            path="network.output",
        )
    x = values[net.input]
    column = net.layout == "column"
    spatial = any(layer.kind != "dense" for layer in net.layers)
    if spatial and not column:
        k = next(k for k, layer in enumerate(net.layers) if layer.kind != "dense")
        raise DefinitionError(
            f"a {net.layers[k].kind} layer (layers[{k}]) needs layout: column (maps, "
            "and samples as columns after a flatten)",
            path="network.layout",
        )
    if not column and x.ndim != 2:
        raise DefinitionError(
            "in row layout the input is a matrix with one sample per row, e.g. [[1, 2, 3]]",
            path=f"values.{net.input}",
        )
    if spatial and net.layers[0].kind in ("conv", "pool") and x.ndim < 2:
        raise DefinitionError(
            f"a {net.layers[0].kind} layer first takes a map H×W, an image C×H×W or a "
            f"batch N×C×H×W, not {_shape_words(x.shape)}",
            path=f"values.{net.input}",
        )
    shape: tuple[int, ...] = (
        x.shape
        if spatial and net.layers[0].kind != "dense"
        else (_features(x, column), _batch(x, column))
    )
    batch = x.shape[0] if spatial and x.ndim == 4 else 1 if spatial else _batch(x, column)
    equations: list[str] = []
    params: list[str] = []
    previous = net.input
    last = len(net.layers)
    for k, layer in enumerate(net.layers, start=1):
        where = f"network.layers[{k - 1}]"
        final = k == last
        name = output if final else f"{notation.act}{k}"
        if final and net.loss == "softmax_ce" and layer.kind != "dense":
            raise DefinitionError(
                f"with softmax_ce the last layer gives the logits: a dense layer, found {layer.kind}",
                path=f"{where}.kind",
            )
        if isinstance(layer, PoolLayerSpec):
            _needs_maps(shape, layer.kind, where)
            stride = layer.stride or layer.size
            for n in shape[-2:]:
                if layer.size > n:
                    raise DefinitionError(
                        f"the {layer.size}×{layer.size} window does not fit the "
                        f"{dims(shape[-2:])} map it pools",
                        path=f"{where}.size",
                    )
            extra = "" if layer.size == 2 else f", size={layer.size}"
            extra += "" if stride == layer.size else f", stride={stride}"
            equations.append(f"{name} = {layer.mode}pool({previous}{extra})")
            shape = (*shape[:-2], *((n - layer.size) // stride + 1 for n in shape[-2:]))
        elif isinstance(layer, FlattenLayerSpec):
            _needs_maps(shape, layer.kind, where)
            equations.append(f"{name} = flatten({previous})")
            flat = int(np.prod(shape[-3:] if len(shape) == 4 else shape))
            shape = (flat, shape[0] if len(shape) == 4 else 1)
        else:
            if isinstance(layer, ConvLayerSpec):
                linear, shape = _conv(net, layer, k, previous, shape, values, where)
                params.append(layer_names(net, k, "conv")[0])
            else:
                if len(shape) != 2 or (spatial and k > 1 and _maps_before(net, k)):
                    raise DefinitionError(
                        "a dense layer takes a vector: flatten the maps first "
                        "(add {kind: flatten} before it)",
                        path=where,
                    )
                linear = _dense(net, layer.units, k, previous, shape[0], values, column)
                params.append(layer_names(net, k)[0])
                shape = (layer.units, shape[1])
            if net.bias:
                linear += f" + {layer_names(net, k)[1]}"
                params.append(layer_names(net, k)[1])
            pre = f"{notation.pre}{k}"
            if final and net.loss == "softmax_ce":
                if layer.activation != "identity":
                    raise DefinitionError(
                        "with softmax_ce the last layer gives the logits; its "
                        f"activation must be identity, found '{layer.activation}'",
                        path=f"{where}.activation",
                    )
                name = pre
                equations.append(f"{pre} = {linear}")
            elif layer.activation == "identity":
                equations.append(f"{name} = {linear}")
            else:
                equations += [f"{pre} = {linear}", f"{name} = {layer.activation}({pre})"]
        previous = name
    loss = notation.loss
    if net.loss == "softmax_ce":
        equations.append(f"p = softmax({previous})")
    text = LOSS_TEXT[net.loss].format(y=output, t=net.target, p="p", M=batch)
    if batch == 1:
        text = text.replace(" / 1", "")
    equations.append(f"{loss} = {text}")
    return equations, loss, params


def _maps_before(net: LayersNetwork, k: int) -> bool:
    """Whether layer k (1-based) follows a convolution or pooling with no flatten since."""
    for layer in reversed(net.layers[: k - 1]):
        if layer.kind == "flatten":
            return False
        if layer.kind in ("conv", "pool"):
            return True
    return False


def _needs_maps(shape: tuple, kind: str, where: str) -> None:
    if len(shape) < 2 or (len(shape) == 2 and shape[1] == 1):
        raise DefinitionError(
            f"a {kind} layer takes maps, not {_shape_words(shape)} (a dense layer's output)",
            path=where,
        )


def _shape_words(shape: tuple) -> str:
    if len(shape) == 0:
        return "a scalar"
    if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
        return f"a vector of {shape[0]}"
    return f"shape {dims(shape)}"


def _given(values: dict, name: str, want: tuple, what: str, k: int) -> None:
    """A layer's weight or bias: given, and of the shape the layer declares."""
    if name not in values:
        raise DefinitionError(f"missing '{name}': layer {k} needs {what}", path="values")
    found = values[name].shape
    if want and found != want and not (want == (want[0],) and found == (want[0], 1)):
        raise DefinitionError(
            f"layer {k} needs {what}, found {_shape_words(found)}", path=f"values.{name}"
        )


def _conv(net, layer: ConvLayerSpec, k: int, previous: str, shape: tuple, values, where: str):
    """A convolution's linear part and its output shape."""
    _needs_maps(shape, "conv", where)
    kernel, bias = layer_names(net, k, "conv")
    s, p, size = layer.stride, layer.padding, layer.size
    h, w = shape[-2:]
    if size > h + 2 * p or size > w + 2 * p:
        raise DefinitionError(
            f"a {size}×{size} kernel does not fit the {h}×{w} map (padding {p})",
            path=f"{where}.size",
        )
    out = (out_size(h, size, s, p), out_size(w, size, s, p))
    if len(shape) == 2:  # one map: one kernel
        if layer.filters != 1:
            raise DefinitionError(
                f"{layer.filters} filters need an image C×H×W (or a batch N×C×H×W) to "
                f"work on; the layer's input is one {h}×{w} map (give the image one "
                "channel, [[[…]]], to use filters)",
                path=f"{where}.filters",
            )
        _given(values, kernel, (size, size), f"a {size}×{size} kernel", k)
        if net.bias:
            _given(values, bias, (), "a bias (one number)", k)
        new: tuple[int, ...] = out
    else:
        f, c = layer.filters, shape[-3]
        _given(values, kernel, (f, c, size, size), f"{f}×{c}×{size}×{size} filters", k)
        if net.bias:
            _given(values, bias, (f,), f"a bias vector of length {f} (one per filter)", k)
        new = (*shape[:-3], f, *out)
    extra = ("" if s == 1 else f", stride={s}") + ("" if p == 0 else f", padding={p}")
    return f"conv2d({previous}, {kernel}{extra})", new


def _dense(net, units: int, k: int, previous: str, width: int, values, column: bool) -> str:
    weight, bias = layer_names(net, k)
    shape = (units, width) if column else (width, units)
    _given(values, weight, shape, f"a {shape[0]}×{shape[1]} weight matrix", k)
    if net.bias:
        _given(values, bias, (), f"a bias vector of length {units}", k)
    return f"{weight} @ {previous}" if column else f"{previous} @ {weight}"


def _features(x: np.ndarray, column: bool) -> int:
    if x.ndim == 0:
        return 1
    if x.ndim == 1:
        return x.shape[0]
    return x.shape[0] if column else x.shape[1]


def _batch(x: np.ndarray, column: bool) -> int:
    if x.ndim < 2:
        return 1
    return x.shape[1] if column else x.shape[0]

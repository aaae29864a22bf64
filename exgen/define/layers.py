"""The `layers:` shorthand for plain MLPs, compiled to equations."""

from __future__ import annotations

import numpy as np

from exgen.define.schema import LayersNetwork, NotationSpec
from exgen.errors import DefinitionError

LOSS_TEXT = {
    "half_sum": "0.5 * sum(({y} - {t}) ** 2)",
    "half_mean": "0.5 * sum(({y} - {t}) ** 2) / {M}",
    "mse": "mean(({y} - {t}) ** 2)",
    "softmax_ce": "-sum({t} * log({p})) / {M}",
}


def layer_names(net: LayersNetwork, k: int) -> tuple[str, str]:
    """Weight and bias names of layer k (1-based): W1, b1 (column) or W1, B1 (row)."""
    return f"W{k}", (f"b{k}" if net.layout == "column" else f"B{k}")


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
    if not column and x.ndim != 2:
        raise DefinitionError(
            "in row layout the input is a matrix with one sample per row, e.g. [[1, 2, 3]]",
            path=f"values.{net.input}",
        )
    features = _features(x, column)
    batch = _batch(x, column)
    equations, params = [], []
    previous, width = net.input, features
    last = len(net.layers)
    for k, layer in enumerate(net.layers, start=1):
        w, b = layer_names(net, k)
        shape = (layer.units, width) if column else (width, layer.units)
        for name, what in (
            (w, f"a {shape[0]}×{shape[1]} weight matrix"),
            (b, f"a bias vector of length {layer.units}"),
        ):
            if (name != b or net.bias) and name not in values:
                raise DefinitionError(f"missing '{name}': layer {k} needs {what}", path="values")
        linear = f"{w} @ {previous}" if column else f"{previous} @ {w}"
        if net.bias:
            linear += f" + {b}"
            params += [w, b]
        else:
            params.append(w)
        pre, act = f"{notation.pre}{k}", f"{notation.act}{k}"
        final = k == last
        if final and (net.loss == "softmax_ce" or layer.activation == "identity"):
            if net.loss == "softmax_ce" and layer.activation != "identity":
                raise DefinitionError(
                    "with softmax_ce the last layer gives the logits; its "
                    f"activation must be identity, found '{layer.activation}'",
                    path=f"network.layers[{k - 1}].activation",
                )
            target_name = pre if net.loss == "softmax_ce" else output
            equations.append(f"{target_name} = {linear}")
            previous = target_name
        else:
            equations.append(f"{pre} = {linear}")
            name = output if final else act
            if layer.activation == "identity":
                equations[-1] = f"{name} = {linear}"
            else:
                equations.append(f"{name} = {layer.activation}({pre})")
            previous = name
        width = layer.units
    loss = notation.loss
    if net.loss == "softmax_ce":
        equations.append(f"p = softmax({previous})")
    text = LOSS_TEXT[net.loss].format(y=output, t=net.target, p="p", M=batch)
    if batch == 1:
        text = text.replace(" / 1", "")
    equations.append(f"{loss} = {text}")
    return equations, loss, params


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

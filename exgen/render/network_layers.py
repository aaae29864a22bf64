"""The layers of a network as its architecture figure draws them: which values are
layers, their sizes and activations, and how each is fed (fully connected through
weights, or one to one); and the description of the network from the same layers,
for the figure's alt text."""

from __future__ import annotations

from dataclasses import dataclass, field

from exgen.engine.graph import Graph
from exgen.engine.ops import REGISTRY
from exgen.language import english
from exgen.render.figure_math import plain
from exgen.typeset.notation import Notation

# from the operations' registry: what an operation is in the drawing
ACTIVATIONS = tuple(n for n, op in REGISTRY.items() if op.architecture == "activation")
DATA_OPS = tuple(n for n, op in REGISTRY.items() if op.architecture in ("activation", "data"))
SPATIAL = tuple(n for n, op in REGISTRY.items() if op.architecture == "spatial")


@dataclass
class Layer:
    name: str
    units: int
    activation: str = ""
    pre: str = ""  # pre-activation merged into the layer
    inputs: list = field(default_factory=list)  # (source layer, kind, labels)
    depth: int = 0


def layers_of(graph: Graph) -> list[Layer]:
    """The drawn layers, in evaluation order, with their incoming connections."""
    params = set(graph.params)
    nodes = graph.nodes
    if any(node.kind == "op" and node.op.name in SPATIAL for node in nodes.values()):
        return []  # a feature map (pooled, convolved) is no layer of units
    data: set[str] = set()
    targets = set()
    for name, node in nodes.items():
        if node.kind == "given" and name not in params:
            users = [c for c in graph.consumers(name)]
            if any(
                nodes[c].op.name in ("matmul",) + ACTIVATIONS or _weighted(graph, c, name)
                for c in users
            ):
                data.add(name)
            else:
                targets.add(name)
    for name, node in nodes.items():
        if node.kind != "op" or node.op.name not in DATA_OPS:
            continue
        if any(i in targets for i in node.inputs):
            continue
        if any(i in data for i in node.inputs):
            data.add(name)
    if any(
        node.kind == "op"
        and node.op.shape_rule == "matmul"
        and all(_from_data(graph, i, data) for i in node.inputs)
        for node in nodes.values()
    ):
        return []  # a product of two data-dependent values (attention's Q Kᵀ) is no layer
    consumers = {n: [c for c in graph.consumers(n) if c in data] for n in data}
    drawn = [
        n
        for n in nodes
        if n in data
        and (
            nodes[n].kind == "given"
            or not consumers[n]
            or len(consumers[n]) > 1
            or nodes[n].op.name in ACTIVATIONS
        )
    ]
    layers = {n: Layer(n, nodes[n].shape[0 if graph.layout == "column" else 1]) for n in drawn}
    for name in drawn:
        node = nodes[name]
        if node.kind == "given":
            continue
        layer = layers[name]
        start = name
        if node.op.name in ACTIVATIONS:
            layer.activation = node.op.name
            start = node.inputs[0]
            if start in drawn:
                layer.inputs.append((start, "one", []))
                continue
            layer.pre = start
            layer.inputs += _expand(graph, start, set(drawn), data)
        else:
            layer.inputs += _expand(graph, name, set(drawn) - {name}, data)
    for name in drawn:
        layer = layers[name]
        layer.depth = max((layers[s].depth + 1 for s, _, _ in layer.inputs), default=0)
    for name in drawn:  # an input stands just before its first use (an RNN's x₂ by h₁)
        uses = [la.depth for la in layers.values() if any(s == name for s, _, _ in la.inputs)]
        if nodes[name].kind == "given" and uses:
            layers[name].depth = min(uses) - 1
    return [layers[n] for n in drawn]


def _from_data(graph: Graph, name: str, data: set) -> bool:
    """Whether a value depends on the data (an input of the network)."""
    return name in data or bool(graph.ancestors(name) & data)


def _expand(graph: Graph, name: str, drawn: set, data: set) -> list:
    node = graph.nodes[name]
    if name in drawn:
        return [(name, "one", [])]
    if node.kind != "op":
        return []
    op = node.op.name
    if op == "matmul" or (op == "mul" and any(_weighted(graph, name, i) for i in node.inputs)):
        left, right = node.inputs
        weight, source = (left, right) if right in data else (right, left)
        inner = _expand(graph, source, drawn, data)
        return [(s, "full", labels + [weight]) for s, _, labels in inner]
    out = []
    extras = [i for i in node.inputs if i not in data and graph.nodes[i].kind != "const"]
    for i in node.inputs:
        if i in data:
            out += _expand(graph, i, drawn, data)
    if extras and out:
        s, kind, labels = out[0]
        out[0] = (s, kind, labels + ["+" + e for e in extras])
    return out


def _weighted(graph: Graph, consumer: str, value: str) -> bool:
    """`w * a` with w a parameter: a weighted connection, as in a network of scalars."""
    node = graph.nodes[consumer]
    return node.op.name == "mul" and any(i in graph.params and i != value for i in node.inputs)


def is_skip(layers: dict[str, Layer], layer: Layer, source: str, kind: str) -> bool:
    """A one-to-one connection that passes over a column of layers: drawn as an arc."""
    return kind == "one" and layer.depth - layers[source].depth > 1


def written(graph: Graph, notation: Notation, name: str):
    """A layer as the key writes it: its symbol, or for a value without a name of its
    own (y = W₂ tanh(W₁x + b₁) + x) its expression, typeset."""
    node = graph.nodes[name]
    if node.kind == "given" or node.named:
        return notation.symbol(name)
    return notation.node(name)


def layer_formula(graph: Graph, notation: Notation, layer: Layer):
    """What a layer computes, as the key writes it: h = tanh(W₁x + b₁) for a layer
    whose pre-activation has no name of its own, z₁ = ReLU(u₁) otherwise; None for a
    layer without activation (its symbol is label enough)."""
    if not layer.activation:
        return None
    eq = next((e for e in graph.equations if e.target == layer.name), None)
    if eq is None:
        return None
    return notation.expr(eq.expr)


def describe(graph: Graph, notation: Notation, layers: list[Layer], _=english) -> str:
    """The network in words: each layer with its size, its activation and what feeds
    it (weights, biases, skip connections)."""
    by_name = {layer.name: layer for layer in layers}
    parts = []
    for layer in layers:
        name = plain(written(graph, notation, layer.name))
        units = (_("{n} unit") if layer.units == 1 else _("{n} units")).format(n=layer.units)
        if not layer.inputs:
            parts.append(_("input {name} ({units})").format(name=name, units=units))
            continue
        feeds = []
        for source, kind, labels in layer.inputs:
            src = plain(written(graph, notation, source))
            weights = [plain(notation.symbol(w)) for w in labels if not w.startswith("+")]
            biases = [plain(notation.symbol(w[1:])) for w in labels if w.startswith("+")]
            if is_skip(by_name, layer, source, kind):
                text = _("a skip connection from {src} (added one to one)").format(src=src)
            elif kind == "one":
                text = _("from {src} one to one").format(src=src)
            else:
                text = _("from {src} fully connected through {weights}").format(
                    src=src, weights=", ".join(weights) or _("weights")
                )
            if biases:
                text += _(" plus bias {biases}").format(biases=", ".join(biases))
            feeds.append(text)
        formula = layer_formula(graph, notation, layer)
        act = (
            _(", {activation} activation").format(activation=layer.activation)
            if layer.activation and formula is None
            else ""
        )
        what = f" = {plain(formula)}" if formula is not None else ""
        parts.append(
            _("layer {name} ({units}) {feeds}").format(
                name=name + what, units=units + act, feeds=_(" and ").join(feeds)
            )
        )
    return _("Network: {parts}.").format(parts=_("; then ").join(parts))

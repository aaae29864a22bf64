"""The network's architecture diagram: layers of units with labelled connections,
as an SVG image (an <img> data URI lays out far faster than inline SVG)."""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass, field
from html import escape

from exgen.engine.graph import Graph
from exgen.engine.ops import REGISTRY
from exgen.typeset.notation import Notation

# from the operations' registry: what an operation is in the drawing
ACTIVATIONS = tuple(n for n, op in REGISTRY.items() if op.architecture == "activation")
DATA_OPS = tuple(n for n, op in REGISTRY.items() if op.architecture is not None)
MAX_UNITS = 8
R, DY, DX, TOP, GAP = 11, 30, 150, 34, 46


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
    return [layers[n] for n in drawn]


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


def svg_symbol(notation: Notation, name: str, size: int = 13) -> tuple[str, float]:
    """SVG text for a node's symbol (bold, italic, hat, index as in the key) and its
    width in characters. The baseline is restored after an index, so that text
    following it sits on the line."""
    s = notation.symbol(name)
    weight = "bold" if s.bold else "normal"
    style = "normal" if s.bold or s.upright else "italic"
    base = escape(unicodedata.normalize("NFC", s.base + ("\u0302" if s.hat else "")))
    out = f'<tspan font-weight="{weight}" font-style="{style}">{base}</tspan>'
    small = round(size * 0.72)
    if s.sub:
        out += f'<tspan font-size="{small}" dy="4">{escape(s.sub)}</tspan><tspan dy="-4">\u200b</tspan>'
    if s.sup:
        out += f'<tspan font-size="{small}" dy="-6">{escape(s.sup)}</tspan><tspan dy="6">\u200b</tspan>'
    return out, len(s.base) + len(s.sub) * 0.7 + len(s.sup) * 0.7


def architecture(graph: Graph, notation: Notation) -> tuple[str, str]:
    """(data URI of the SVG, a one-line description for the alt text)."""
    layers = layers_of(graph)
    if not layers:
        return "", ""
    columns: dict[int, list[Layer]] = {}
    for layer in layers:
        columns.setdefault(layer.depth, []).append(layer)
    units = {layer.name: min(layer.units, MAX_UNITS) for layer in layers}
    heights = {d: sum(units[layer.name] * DY + GAP for layer in col) for d, col in columns.items()}
    height = max(heights.values()) + TOP + 10
    width = (max(columns) + 1) * DX + 40
    pos: dict[str, list[tuple[float, float]]] = {}
    label_at: dict[str, tuple[float, float]] = {}
    for d, col in columns.items():
        x = 30 + d * DX + 20
        y = TOP + (height - TOP - 10 - heights[d]) / 2
        for layer in col:
            n = units[layer.name]
            pos[layer.name] = [(x, y + R + 2 + i * DY) for i in range(n)]
            label_at[layer.name] = (x, y + n * DY + 12)
            y += n * DY + GAP
    parts = []
    for layer in layers:
        for source, kind, labels in layer.inputs:
            parts.append(_bundle(pos[source], pos[layer.name], kind, labels, notation))
    for layer in layers:
        for x, y in pos[layer.name]:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{R}" fill="#fff" '
                f'stroke="#222" stroke-width="1.2"/>'
            )
        if layer.units > MAX_UNITS:
            x, y = pos[layer.name][-1]
            parts.append(
                f'<text x="{x + R + 4:.1f}" y="{y + 4:.1f}" font-size="11">⋮ {layer.units}</text>'
            )
        x, y = label_at[layer.name]
        text, _ = svg_symbol(notation, layer.name)
        if layer.activation:
            fn = escape(REGISTRY[layer.activation].spelling.text)
            if layer.pre:
                pre, _ = svg_symbol(notation, layer.pre, 11)
                text += (
                    f'<tspan font-size="11"> = {fn}(</tspan>{pre}<tspan font-size="11">)</tspan>'
                )
            else:
                text += f'<tspan font-size="11"> ({fn})</tspan>'
        chars = len(layer.name) + (
            len(layer.activation) + len(layer.pre) + 5 if layer.activation else 0
        )
        w = 8 + 7 * chars
        parts.append(
            f'<rect x="{x - w / 2:.1f}" y="{y - 12:.1f}" width="{w}" height="17" '
            f'fill="#fff" fill-opacity="0.9"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="13">{text}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="STIX, \'DejaVu Serif\', serif">'
        + "".join(parts)
        + "</svg>"
    )
    alt = ", ".join(f"{layer.name} ({layer.units} units)" for layer in layers)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    return uri, alt


def _bundle(src, dst, kind, labels, notation) -> str:
    lines = []
    if kind == "full":
        for x1, y1 in src:
            for x2, y2 in dst:
                lines.append(
                    f'<line x1="{x1 + R:.1f}" y1="{y1:.1f}" x2="{x2 - R:.1f}" y2="{y2:.1f}" '
                    f'stroke="#777" stroke-width="0.8"/>'
                )
    else:
        for (x1, y1), (x2, y2) in zip(src, dst):
            # a skip connection arcs over the layers it skips: drawn straight it would lie
            # on the path through them and the figure would show a plain chain
            a, b = (x1 + R * 0.7, y1 - R * 0.7), (x2 - R * 0.7, y2 - R * 0.7)
            lift = min(0.22 * (b[0] - a[0]), 40)
            lines.append(
                f'<path d="M {a[0]:.1f} {a[1]:.1f} C {a[0] + lift:.1f} {a[1] - lift:.1f} '
                f'{b[0] - lift:.1f} {b[1] - lift:.1f} {b[0]:.1f} {b[1]:.1f}" fill="none" '
                f'stroke="#1f5f99" stroke-width="1" stroke-dasharray="4 2"/>'
            )
    if labels:
        # on the bundle's top edge, a third of the way (clear of the crossing in the
        # middle), lifted clear of the lines
        (sx, sy), (dx, dy) = src[0], dst[0]
        cx, cy = sx + (dx - sx) * 0.36, sy + (dy - sy) * 0.36 - 11
        text = ", ".join(svg_symbol(notation, label.lstrip("+"), 12)[0] for label in labels)
        w = 12 + sum(7.5 * len(label.lstrip("+")) for label in labels) + 9 * (len(labels) - 1)
        lines.append(
            f'<rect x="{cx - w / 2:.1f}" y="{cy - 10:.1f}" width="{w}" height="16" rx="3" '
            f'fill="#fff" stroke="#bbb" stroke-width="0.6"/>'
        )
        lines.append(
            f'<text x="{cx:.1f}" y="{cy + 2:.1f}" text-anchor="middle" font-size="12">{text}</text>'
        )
    return "".join(lines)

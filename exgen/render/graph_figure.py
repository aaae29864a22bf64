"""The computational graph as a figure: values and operations as nodes, laid out in
layers by igraph's Sugiyama layout; with ``backward``, the gradient nodes below.

Returns an SVG data URI (an <img> lays out far faster than inline SVG in WeasyPrint).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape

from exgen.engine.graph import Graph
from exgen.render.architecture_figure import svg_symbol
from exgen.typeset.notation import Notation

XGAP, YGAP, PAD, FONT = 84, 40, 16, 13


@dataclass
class Box:
    key: str
    label: str  # SVG text content (may hold tspans)
    width: float
    kind: str  # input, param, value, loss, op, grad
    x: float = 0
    y: float = 0


def _forward_boxes(graph: Graph, notation: Notation):
    """Drawn nodes and edges: given values, operations, named results (constants fold
    into their operation's label)."""
    boxes: dict[str, Box] = {}
    edges: list[tuple[str, str]] = []
    params = set(graph.params)
    for name, node in graph.nodes.items():
        if node.kind == "const":
            continue
        if node.kind == "given":
            label, chars = svg_symbol(notation, name)
            kind = "param" if name in params else "input"
            boxes[name] = Box(name, label, 18 + 8 * chars, kind)
            continue
        glyph = node.op.glyph
        consts = [graph.nodes[i].name for i in node.inputs if graph.nodes[i].kind == "const"]
        if node.op.name == "pow":
            glyph = f"^{node.op.exponent}"
        elif consts:
            glyph = f"{glyph} {consts[0]}" if node.op.name != "div" else f"÷ {consts[0]}"
        op_key = f"op:{name}"
        boxes[op_key] = Box(op_key, escape(glyph), max(26, 10 + 7.5 * len(glyph)), "op")
        for i in node.inputs:
            if graph.nodes[i].kind != "const":
                edges.append((_out_key(graph, i), op_key))
        if node.named:
            label, chars = svg_symbol(notation, name)
            boxes[name] = Box(
                name, label, 18 + 8 * chars, "loss" if name == graph.loss else "value"
            )
            edges.append((op_key, name))
    return boxes, edges


def _out_key(graph: Graph, name: str) -> str:
    node = graph.nodes[name]
    return name if node.kind == "given" or node.named else f"op:{name}"


def _layout(boxes: dict[str, Box], edges):
    import igraph  # loads only when a computational graph is drawn

    keys = list(boxes)
    index = {k: i for i, k in enumerate(keys)}
    g = igraph.Graph(n=len(keys), edges=[(index[a], index[b]) for a, b in edges], directed=True)
    layout = g.layout_sugiyama(layers=_layers(keys, edges), hgap=1, vgap=1, maxiter=200)
    # layers run top to bottom, which suits a portrait page
    for k, (pos, layer) in zip(keys, layout.coords[: len(keys)]):
        boxes[k].x = PAD + 40 + pos * XGAP
        boxes[k].y = PAD + 14 + layer * YGAP
    routes = []
    for (a, b), points in zip(edges, layout.edge_routing):
        routes.append(
            (a, b, [(PAD + 40 + p * XGAP, PAD + 14 + layer * YGAP) for p, layer in points])
        )
    return routes


def _layers(keys: list[str], edges) -> list[int]:
    """Longest-path layers, with each source moved down to just above its first use."""
    layer = {k: 0 for k in keys}
    for a, b in edges:  # edges come in evaluation order: one pass suffices
        layer[b] = max(layer[b], layer[a] + 1)
    targets = {k: [b for a, b in edges if a == k] for k in keys}
    for k in keys:
        if not any(b == k for _, b in edges) and targets[k]:
            layer[k] = min(layer[b] for b in targets[k]) - 1
    return [layer[k] for k in keys]


def computational_graph(
    graph: Graph, notation: Notation, backward: bool = False
) -> tuple[str, str]:
    boxes, edges = _forward_boxes(graph, notation)
    routes = _layout(boxes, edges)
    parts, grad_parts = [], []
    if backward:
        right = max(b.x + b.width / 2 for b in boxes.values())
        grad_parts = _backward(graph, notation, boxes, right)
    width = max(b.x + b.width / 2 for b in boxes.values()) + PAD
    height = max(b.y for b in boxes.values()) + 14
    for a, b, points in routes:
        parts.append(_edge(boxes[a], boxes[b], points, "#444", False))
    body = "".join(parts) + "".join(grad_parts) + "".join(_node(b) for b in boxes.values())
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height + PAD:.0f}" '
        f'viewBox="0 0 {width:.0f} {height + PAD:.0f}" font-family="STIX, \'DejaVu Serif\', serif" '
        f'font-size="{FONT}">{body}</svg>'
    )
    alt = (
        f"computational graph with {sum(b.kind != 'op' for b in boxes.values())} value "
        f"nodes and {sum(b.kind == 'op' for b in boxes.values())} operations"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"), alt


def _backward(graph: Graph, notation: Notation, boxes: dict[str, Box], right: float):
    """Gradient nodes ∂L/∂n to the right of the values (given or named) between the parameters
    and the loss; chains of unnamed operations (one input, one output) are left out,
    as the seed allows. Thin edges bring the forward values a local derivative needs."""
    needed = graph.between(set(graph.params), graph.loss)
    values = [n for n in needed if graph.nodes[n].kind == "given" or graph.nodes[n].named]
    left = min(b.x - b.width / 2 for b in boxes.values())
    offset = right - left + 40
    loss_sym, _ = svg_symbol(notation, graph.loss, 11)
    grads: dict[str, Box] = {}
    for name in values:
        sym, chars = svg_symbol(notation, name, 12)
        fwd = boxes[name]
        grads[name] = Box(
            "grad:" + name,
            f"∂{loss_sym}/∂{sym}",
            18 + 7.5 * (chars + 4),
            "grad",
            fwd.x + offset,
            fwd.y,
        )
    parts = []
    for name in values:
        sources, deps = _downstream(graph, name, set(needed))
        for source in sources:
            parts.append(_edge(grads[source], grads[name], [], "#b03a2e", True))
        for dep in deps:
            parts.append(_edge(boxes[dep], grads[name], [], "#d9a19a", True, thin=True))
    for box in grads.values():
        boxes[box.key] = box
    return parts


def _downstream(graph: Graph, name: str, needed: set) -> tuple[list[str], list[str]]:
    """The named values whose gradients flow into ∂L/∂name, and the forward values
    the local derivatives on the way need."""
    sources, deps, stack, seen = [], [], [name], set()
    while stack:
        current = stack.pop()
        for consumer in graph.consumers(current):
            if consumer not in needed or (consumer, current) in seen:
                continue
            seen.add((consumer, current))
            node = graph.nodes[consumer]
            if node.op.gradient_uses == "others":
                deps += [
                    _out_key(graph, i)
                    for i in node.inputs
                    if i != current and graph.nodes[i].kind != "const"
                ]
            elif node.op.gradient_uses == "input":
                deps.append(_out_key(graph, current))
            if node.named:
                sources.append(consumer)
            else:
                stack.append(consumer)
    return list(dict.fromkeys(sources)), [d for d in dict.fromkeys(deps) if d != name]


def _node(box: Box) -> str:
    x, y, w = box.x, box.y, box.width
    if box.kind == "op":
        shape = (
            f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="12" fill="#f3f3f3" '
            f'stroke="#444" stroke-width="1"/>'
        )
        return (
            shape
            + f'<text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" font-size="12">{box.label}</text>'
        )
    styles = {
        "input": ("#ffffff", "#222", ""),
        "param": ("#fff4cc", "#7a5c00", ""),
        "value": ("#ffffff", "#222", ""),
        "loss": ("#e8f1fb", "#1f4f82", ""),
        "grad": ("#fdf0ee", "#b03a2e", ' stroke-dasharray="4 2"'),
    }
    fill, stroke, dash = styles[box.kind]
    shape = (
        f'<rect x="{x - w / 2:.1f}" y="{y - 12:.1f}" width="{w:.1f}" height="24" rx="5" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"{dash}/>'
    )
    size = 12 if box.kind == "grad" else FONT
    return shape + (
        f'<text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" '
        f'font-size="{size}">{box.label}</text>'
    )


def _edge(a: Box, b: Box, points, color: str, dashed: bool, thin: bool = False) -> str:
    if thin:  # a forward value feeding a gradient: arc over the boxes in between
        points = [((a.x + b.x) / 2, min(a.y, b.y) - 26)]
    path = [(a.x, a.y)] + list(points) + [(b.x, b.y)]
    (x1, y1), (x2, y2) = path[-2], path[-1]
    # stop at the target's border
    dx, dy = x2 - x1, y2 - y1
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    half_w, half_h = b.width / 2 + 2, 14
    t = min(half_w / abs(dx) if dx else 1e9, half_h / abs(dy) if dy else 1e9)
    ex, ey = x2 - dx * t, y2 - dy * t
    path[-1] = (ex, ey)
    if thin:
        (sx, sy), (cx, cy) = path[0], path[1]
        d = f"M{sx:.1f},{sy - 12:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"
    else:
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in path)
    ux, uy = dx / length, dy / length
    head = [
        (ex, ey),
        (ex - 7 * ux + 3.5 * uy, ey - 7 * uy - 3.5 * ux),
        (ex - 7 * ux - 3.5 * uy, ey - 7 * uy + 3.5 * ux),
    ]
    style = ' stroke-dasharray="5 3"' if dashed else ""
    width = 0.7 if thin else 1.1
    return (
        f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"{style}/>'
        f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in head)}" fill="{color}"/>'
    )

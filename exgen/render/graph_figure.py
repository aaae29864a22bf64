"""The computational graph as a figure: values and operations as nodes, laid out in
layers by igraph's Sugiyama layout; with ``backward``, the gradient nodes below.

Returns an SVG data URI (an <img> lays out far faster than inline SVG in WeasyPrint).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from exgen.engine.graph import Graph
from exgen.engine.rounding import marked
from exgen.language import SOURCE, english, gettext_for
from exgen.render.figure_math import plain, svg_label
from exgen.render.svg_canvas import Canvas, Label, data_uri, segment_meets_box, text_box
from exgen.typeset.formula import Frac, Row, Text
from exgen.typeset.notation import Notation

XGAP, YGAP, PAD, FONT = 84, 40, 16, 13


@dataclass
class Box:
    key: str
    label: Label  # typeset text
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
            label = svg_label(notation.symbol(name))
            kind = "param" if name in params else "input"
            boxes[name] = Box(name, label, 18 + label.ems * FONT, kind)
            continue
        glyph = node.op.glyph
        consts = [
            marked(graph.nodes[i].name) for i in node.inputs if graph.nodes[i].kind == "const"
        ]
        if node.op.name == "pow":
            glyph = f"^{node.op.exponent}"
        elif consts:
            glyph = f"{glyph} {consts[0]}" if node.op.name != "div" else f"÷ {consts[0]}"
        op_key = f"op:{name}"
        label = svg_label(Text(glyph))
        boxes[op_key] = Box(op_key, label, max(26, 14 + label.ems * 12), "op")
        for i in node.inputs:
            if graph.nodes[i].kind != "const":
                edges.append((_out_key(graph, i), op_key))
        if node.named:
            label = svg_label(notation.symbol(name))
            boxes[name] = Box(
                name, label, 18 + label.ems * FONT, "loss" if name == graph.loss else "value"
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
    graph: Graph, notation: Notation, backward: bool = False, lang: str = SOURCE
) -> tuple[str, str]:
    """(data URI of the SVG, its description for the alt text)."""
    boxes, edges = _forward_boxes(graph, notation)
    routes = _layout(boxes, edges)
    canvas = Canvas()
    for a, b, points in routes:
        _edge(canvas, boxes[a], boxes[b], points, "#444", False)
    grads = _backward(graph, notation, boxes, canvas) if backward else {}
    for box in list(boxes.values()) + list(grads.values()):
        _node(canvas, box)
    alt = describe(graph, notation, grads, gettext_for(lang))
    return data_uri(canvas.svg()), alt


def describe(graph: Graph, notation: Notation, grads: dict, _=english) -> str:
    """The graph in words, in evaluation order: each named result and how it is
    computed, then the loss; with the gradient nodes, the order they are computed in."""
    steps = [
        f"{plain(notation.symbol(eq.target))} = {plain(notation.expr(eq.expr))}"
        for eq in graph.equations
    ]
    given = [plain(notation.symbol(n)) for n, node in graph.nodes.items() if node.kind == "given"]
    text = _("Computational graph from {given}: {steps}; loss {loss}.").format(
        given=", ".join(given), steps="; ".join(steps), loss=plain(notation.symbol(graph.loss))
    )
    if grads:
        loss = plain(notation.symbol(graph.loss))
        order = sorted(grads, key=list(graph.nodes).index, reverse=True)
        text += _(" Gradient nodes, from the loss back: {grads}.").format(
            grads=", ".join(f"∂{loss}/∂{plain(notation.symbol(n))}" for n in order)
        )
    return text


def _backward(graph: Graph, notation: Notation, boxes: dict[str, Box], canvas: Canvas):
    """Gradient nodes ∂L/∂n to the right of the values (given or named) between the parameters
    and the loss; chains of unnamed operations (one input, one output) are left out,
    as the seed allows. Thin edges bring the forward values a local derivative needs."""
    needed = graph.between(set(graph.params), graph.loss)
    values = [n for n in needed if graph.nodes[n].kind == "given" or graph.nodes[n].named]
    left = min(b.x - b.width / 2 for b in boxes.values())
    right = max(b.x + b.width / 2 for b in boxes.values())
    offset = right - left + 40
    grads: dict[str, Box] = {}
    for name in values:
        label = svg_label(
            Frac(
                Row((Text("∂"), notation.symbol(graph.loss))),
                Row((Text("∂"), notation.symbol(name))),
            )
        )
        fwd = boxes[name]
        grads[name] = Box("grad:" + name, label, 18 + label.ems * 12, "grad", fwd.x + offset, fwd.y)
    everything = list(boxes.values()) + list(grads.values())
    arcs = 0
    for name in values:
        sources, deps = _downstream(graph, name, set(needed))
        for source in sources:
            _edge(canvas, grads[source], grads[name], [], "#b03a2e", True)
        for dep in deps:
            _thin_edge(canvas, boxes[dep], grads[name], everything, arcs)
            arcs += 1
    return grads


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


def _node(canvas: Canvas, box: Box) -> None:
    x, y, w = box.x, box.y, box.width
    bounds = (x - w / 2, y - 12, x + w / 2, y + 12)
    if box.kind == "op":
        canvas.shape(
            f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="12" fill="#f3f3f3" '
            f'stroke="#444" stroke-width="1"/>',
            bounds,
        )
        _text(canvas, x, y + 4.5, box.label, 12)
        return
    styles = {
        "input": ("#ffffff", "#222", ""),
        "param": ("#fff4cc", "#7a5c00", ""),
        "value": ("#ffffff", "#222", ""),
        "loss": ("#e8f1fb", "#1f4f82", ""),
        "grad": ("#fdf0ee", "#b03a2e", ' stroke-dasharray="4 2"'),
    }
    fill, stroke, dash = styles[box.kind]
    canvas.shape(
        f'<rect x="{x - w / 2:.1f}" y="{y - 12:.1f}" width="{w:.1f}" height="24" rx="5" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"{dash}/>',
        bounds,
    )
    _text(canvas, x, y + 4.5, box.label, 12 if box.kind == "grad" else FONT)


def _text(canvas: Canvas, x, y, label: Label, size) -> None:
    """A node's text: inside its shape, which already covers it for placement."""
    canvas.parts.append(
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="{size}">{label.svg}</text>'
    )
    canvas._cover(*text_box(x, y, label, size))


def _thin_edge(canvas: Canvas, a: Box, b: Box, boxes: list, k: int) -> None:
    """A forward value feeding a gradient: an arc from the top of the value to the top
    of the gradient, raised until it passes over every other node (each arc a little
    higher than the last, so that arcs side by side stay apart)."""
    others = [
        (n.x - n.width / 2 - 3, n.y - 15, n.x + n.width / 2 + 3, n.y + 15)  # with room
        for n in boxes
        if n is not a and n is not b
    ]
    side = 1 if b.x > a.x else -1
    starts = [(a.x, a.y - 12), (a.x + side * a.width / 2, a.y)]  # its top, its side
    ends = [(b.x, b.y - 14), (b.x - side * (b.width / 2 + 2), b.y)]
    best = None
    for lift in range(8 + 3 * (k % 4), 170, 12):
        for start in starts:
            for end in ends:
                control = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 - lift)
                points = _quadratic(start, control, end)
                hits = sum(
                    any(segment_meets_box(p, q, o) for p, q in itertools.pairwise(points))
                    for o in others
                )
                if best is None or hits < best[0]:
                    best = (hits, start, control, end, points)
        if best[0] == 0:
            break
    _, start, control, end, points = best
    d = (
        f"M{start[0]:.1f},{start[1]:.1f} Q{control[0]:.1f},{control[1]:.1f} "
        f"{end[0]:.1f},{end[1]:.1f}"
    )
    canvas.path(d, points, "#d9a19a", 0.7, "5 3")
    canvas.arrowhead(end, (end[0] - control[0], end[1] - control[1]), "#d9a19a")


def _quadratic(p0, p1, p2, steps: int = 16) -> list:
    return [
        tuple((1 - t) ** 2 * u + 2 * (1 - t) * t * v + t * t * w for u, v, w in zip(p0, p1, p2))
        for t in (i / steps for i in range(steps + 1))
    ]


def _edge(canvas: Canvas, a: Box, b: Box, points, color: str, dashed: bool) -> None:
    path = [(a.x, a.y)] + list(points) + [(b.x, b.y)]
    (x1, y1), (x2, y2) = path[-2], path[-1]
    # stop at the target's border
    dx, dy = x2 - x1, y2 - y1
    half_w, half_h = b.width / 2 + 2, 14
    t = min(half_w / abs(dx) if dx else 1e9, half_h / abs(dy) if dy else 1e9)
    ex, ey = x2 - dx * t, y2 - dy * t
    path[-1] = (ex, ey)
    canvas.polyline(path, color, 1.1, "5 3" if dashed else "")
    canvas.arrowhead((ex, ey), (dx, dy), color)

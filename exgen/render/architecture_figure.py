"""The network's architecture diagram: layers of units with labelled connections, as
SVG images (an <img> data URI lays out far faster than inline SVG): a wide one, layers
left to right, and a narrow one, layers top to bottom, for phone screens.

Labels are placed where no edge passes (the canvas knows what is drawn), and skip
connections arc outside the layers so that they never lie on an ordinary edge."""

from __future__ import annotations

from dataclasses import dataclass

from exgen.engine.graph import Graph
from exgen.language import SOURCE, gettext_for
from exgen.render import feature_map_figure, feature_maps
from exgen.render.figure_math import svg_label
from exgen.render.network_layers import (
    Layer,
    describe,
    is_skip,
    layer_formula,
    layers_of,
    written,
)
from exgen.render.svg_canvas import Canvas, Label, cubic, data_uri, distance, text_box
from exgen.typeset.formula import Op, Row
from exgen.typeset.notation import Notation

MAX_UNITS = 8
R, DY, GAP = 11, 30, 64  # unit radius, unit spacing, gap between layers stacked in a column
DX = {True: 150, False: 115}  # column spacing, wide and narrow (a phone's page runs down)
LABEL, WEIGHT = 13, 12  # font sizes of layer and weight labels
EDGE, SKIP = "#777", "#1f5f99"


@dataclass(frozen=True)
class Figure:
    wide: str  # data URI: layers left to right
    narrow: str  # data URI: layers top to bottom
    alt: str  # the network in words


def architecture(graph: Graph, notation: Notation, lang: str = SOURCE) -> Figure | None:
    """The network's figure: feature-map blocks for a CNN, layers of units otherwise;
    None for a network drawn as neither (attention, a branch around a convolution)."""
    blocks = feature_maps.stages_of(graph)
    if blocks is not None:
        return Figure(
            data_uri(feature_map_figure.draw(graph, notation, blocks, wide=True)),
            data_uri(feature_map_figure.draw(graph, notation, blocks, wide=False)),
            feature_maps.describe(graph, notation, blocks, gettext_for(lang)),
        )
    layers = layers_of(graph)
    if not layers:
        return None
    return Figure(
        data_uri(_draw(graph, notation, layers, wide=True)),
        data_uri(_draw(graph, notation, layers, wide=False)),
        describe(graph, notation, layers, gettext_for(lang)),
    )


def _positions(layers: list[Layer], along: float) -> dict[str, list[tuple[float, float]]]:
    """Each layer's units as (along, across): along the flow, across a column."""
    columns: dict[int, list[Layer]] = {}
    for layer in layers:
        columns.setdefault(layer.depth, []).append(layer)
    spans = {
        d: sum(min(layer.units, MAX_UNITS) * DY for layer in col) + GAP * (len(col) - 1)
        for d, col in columns.items()
    }
    tallest = max(spans.values())
    pos = {}
    for d, col in columns.items():
        c = (tallest - spans[d]) / 2
        for layer in col:
            n = min(layer.units, MAX_UNITS)
            pos[layer.name] = [(d * along, c + i * DY) for i in range(n)]
            c += n * DY + GAP
    return pos


def _draw(graph: Graph, notation: Notation, layers: list[Layer], wide: bool) -> str:
    def at(p):  # abstract (along, across) to the page
        return (p[0], p[1]) if wide else (p[1], p[0])

    abstract = _positions(layers, DX[wide])
    pos = {name: [at(p) for p in units] for name, units in abstract.items()}
    by_name = {layer.name: layer for layer in layers}
    canvas = Canvas()
    skips = []
    own = {}  # each bundle's strokes: its label goes nearer them than any other
    for layer in layers:
        for source, kind, _labels in layer.inputs:
            if is_skip(by_name, layer, source, kind):
                skips.append((source, layer.name))
            else:
                start = len(canvas.segments)
                _bundle(canvas, pos[source], pos[layer.name], kind, wide)
                own[(source, layer.name)] = canvas.segments[start:]
    for layer in layers:
        for x, y in pos[layer.name]:
            canvas.circle(x, y, R)
        if layer.units > MAX_UNITS:
            x, y = pos[layer.name][-1]
            more = Label(f"<tspan>{'⋮' if wide else '⋯'} {layer.units}</tspan>", 3)
            canvas.text(
                x + (R + 4 if wide else 0),
                y + (4 if wide else R + 14),
                more,
                11,
                "start" if wide else "middle",
            )
    # skip connections before any label: the labels then keep clear of them too
    for k, (source, target) in enumerate(skips):
        _skip(canvas, pos[source], pos[target], wide, k)
    for layer in layers:  # weight labels first: a bundle has few places for its label
        for source, kind, labels in layer.inputs:
            if labels and not is_skip(by_name, layer, source, kind):
                text = Row(
                    tuple(
                        x
                        for i, w in enumerate(labels)
                        for x in ((Op(","),) if i else ()) + (notation.symbol(w.lstrip("+")),)
                    )
                )
                spots = _weight_spots(pos[source], pos[layer.name], wide)
                _place(canvas, svg_label(text), WEIGHT, spots, own[(source, layer.name)])
    for layer in layers:
        formula = layer_formula(graph, notation, layer)
        sym = written(graph, notation, layer.name)
        text = Row((sym, Op("="), formula)) if formula is not None else sym
        _place(canvas, svg_label(text), LABEL, _layer_spots(pos[layer.name], wide))
    return canvas.svg()


def _bundle(canvas: Canvas, src, dst, kind: str, wide: bool) -> None:
    pairs = [(a, b) for a in src for b in dst] if kind == "full" else list(zip(src, dst))
    for (x1, y1), (x2, y2) in pairs:
        dx, dy = x2 - x1, y2 - y1
        n = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        a = (x1 + R * dx / n, y1 + R * dy / n)
        b = (x2 - R * dx / n, y2 - R * dy / n)
        canvas.polyline([a, b], EDGE, 0.8)


def _skip(canvas: Canvas, src, dst, wide: bool, k: int) -> None:
    """A skip connection: from the source layer's first unit out beyond the units it
    passes, with room for a row of labels between (above the row; left of it when the
    layers run downwards), into the target's first unit, dashed, in its own colour,
    with an arrowhead where it joins."""
    (sx, sy), (tx, ty) = src[0], dst[0]
    x0, y0, _, _ = canvas.extent
    # a cubic curve reaches 3/4 of the way to its control points: put them beyond
    if wide:
        start, end = (sx, sy - R), (tx, ty - R)
        out = sy - R - (sy - R - (y0 - 24 - 10 * k)) / 0.75
        c1, c2 = (sx + 10, out), (tx - 10, out)
    else:
        start, end = (sx - R, sy), (tx - R, ty)
        out = sx - R - (sx - R - (x0 - 24 - 10 * k)) / 0.75
        c1, c2 = (out, sy + 10), (out, ty - 10)
    points = cubic(start, c1, c2, end)
    d = (
        f"M{start[0]:.1f},{start[1]:.1f} C{c1[0]:.1f},{c1[1]:.1f} "
        f"{c2[0]:.1f},{c2[1]:.1f} {end[0]:.1f},{end[1]:.1f}"
    )
    canvas.path(d, points, SKIP, 1.4, "5 3", "skip")
    (px, py), (ex, ey) = points[-2], points[-1]
    canvas.arrowhead(end, (ex - px, ey - py), SKIP)


def _weight_spots(src, dst, wide: bool):
    """Where a bundle's label may go: along the outer edge on either side of it
    (above or below the bundle; left or right when the layers run downwards)."""
    spots = []
    for lift in (5, 12, 22, 34):  # near the bundle first, anywhere along it
        for t in (0.36, 0.5, 0.25, 0.62, 0.15, 0.75):
            for (a, b), side in (((src[0], dst[0]), -1), ((src[-1], dst[-1]), 1)):
                x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
                if wide:
                    spots.append((x, y + side * lift, "middle", side))
                else:
                    spots.append((x + side * lift, y, "end" if side < 0 else "start", 0))
    return spots


def _layer_spots(units, wide: bool):
    """Where a layer's label may go: below its column of units, else above it, moving
    outwards (right of, else left of, its row when the layers run downwards)."""
    (fx, fy), (lx, ly) = units[0], units[-1]
    spots = []
    for step in range(8):
        for shift in (0, -20, 20, -40, 40):
            if wide:
                spots.append((lx + shift, ly + R + 4 + step * 5, "middle", 1))
                spots.append((fx + shift, fy - R - 4 - step * 5, "middle", -1))
            else:
                spots.append((lx + R + 6 + step * 5, ly + shift * 0.4, "start", 0))
                spots.append((fx - R - 6 - step * 5, fy + shift * 0.4, "end", 0))
    return spots


def _place(canvas: Canvas, label: Label, size: float, spots, own=()) -> None:
    """The label at the first spot where it touches nothing drawn (and, for a bundle's
    label, lies nearer its own strokes than any other); at the first spot if there is
    none (the layout tests catch that)."""
    chosen = None
    for x, y, anchor, side in spots:
        # the spot is the edge of the label nearest what it labels: set the baseline
        if side < 0:
            y = y - 0.3 * size
        elif side > 0:
            y = y + 0.78 * size
        else:
            y = y + 0.25 * size
        box = text_box(x, y, label, size, anchor)
        if canvas.free(box) and (not own or _nearest_is_own(canvas, box, own)):
            chosen = (x, y, anchor)
            break
        chosen = chosen or (x, y, anchor)
    canvas.text(chosen[0], chosen[1], label, size, chosen[2])


def _nearest_is_own(canvas: Canvas, box, own) -> bool:
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    mine = min(distance(centre, a, b) for a, b in own)
    others = [distance(centre, a, b) for a, b in canvas.segments if (a, b) not in own]
    return not others or mine < min(others) - 2

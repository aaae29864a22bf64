"""A CNN's architecture figure, as textbooks draw LeNet: each value from the image to
the output a block — a stack of slightly offset maps (one rectangle for one map) sized
by the map, or a thin bar for a vector — with its symbol above and its shape below
(2@4×4, 4×4, a vector's length), and arrows between the blocks labelled with the
operation (conv 3×3, s=1, p=1, ReLU; max-pool 2×2; flatten; dense). Blocks run left to
right and wrap to a further row where the page is too narrow (a row then begins with
the arrow that continues the last)."""

from __future__ import annotations

from html import escape

from exgen.engine.graph import Graph
from exgen.render.feature_maps import Block
from exgen.render.figure_math import svg_label
from exgen.render.network_layers import written
from exgen.render.svg_canvas import Canvas, Label, advance
from exgen.typeset.notation import Notation

WIDTH = {True: 620, False: 400}  # the widest row, wide and narrow (a phone's 315 px)
NAME, SIZE, OP = 13, 12, 12  # font sizes: a block's symbol, its shape, an operation
LINE = 14  # the leading of an operation's lines
SHOWN, OFFSET = 4, 6  # maps drawn in a stack, and the offset between two of them
BAR = 10  # a vector's width
GAP = 8  # between an arrow's end and a block
ROW_GAP = 16
MAX_CELLS = 12  # a map of more pixels a side is drawn plain
STROKE, FILL, BACK, ARROW, CELL = "#222", "#fff", "#e8eef5", "#555", "#bbb"


def _side(n: int) -> float:
    """A map's side for n pixels: larger maps larger, every one readable."""
    return min(84.0, 16.0 + 9.0 * n)


def _box(block: Block) -> tuple[float, float, float]:
    """A block's width, height and the depth of its stack (0 for one map)."""
    if block.kind == "vector":
        return BAR, min(110.0, max(24.0, 10.0 + 6.0 * block.shape[0])), 0.0
    h, w = block.shape[-2:]
    depth = OFFSET * (min(block.channels, SHOWN) - 1)
    return _side(w) + depth, _side(h) + depth, depth


def _words(block: Block) -> list[Label]:
    return [Label(f"<tspan>{escape(w)}</tspan>", advance(w)) for w in block.via]


def _arrow_length(block: Block) -> float:
    widest = max((label.ems * OP for label in _words(block)), default=0.0)
    return max(44.0, widest + 14.0)


def draw(graph: Graph, notation: Notation, blocks: list[Block], wide: bool) -> str:
    rows: list[list[tuple[float, Block]]] = [[]]  # (arrow length before it, block)
    x = 0.0
    for i, block in enumerate(blocks):
        arrow = _arrow_length(block) + 2 * GAP if i else 0.0
        w = _box(block)[0]
        if rows[-1] and x + arrow + w > WIDTH[wide]:
            rows.append([])
            x = 0.0
        rows[-1].append((arrow, block))
        x += arrow + w
    canvas = Canvas()
    top = 0.0
    for row in rows:
        above = max(
            max(_box(b)[1] / 2 + NAME + 8 for _, b in row),
            max(len(b.via) * LINE + 8 for _, b in row),
        )
        below = max(_box(b)[1] / 2 + SIZE + 8 for _, b in row)
        _row(canvas, graph, notation, row, top + above)
        top += above + below + ROW_GAP
    return canvas.svg()


def _row(canvas: Canvas, graph, notation, row, axis: float) -> None:
    x = 0.0
    for arrow, block in row:
        if arrow:
            _arrow(canvas, x + GAP, x + arrow - GAP, axis, _words(block))
            x += arrow
        w, h, depth = _box(block)
        _block(canvas, block, x, axis, w, h, depth)
        name = svg_label(written(graph, notation, block.name))
        canvas.text(x + w / 2, axis - h / 2 - 6, name, NAME)
        size = Label(f"<tspan>{escape(block.size)}</tspan>", advance(block.size))
        canvas.text(x + w / 2, axis + h / 2 + 4 + 0.78 * SIZE, size, SIZE)
        x += w


def _block(canvas: Canvas, block: Block, x: float, axis: float, w, h, depth) -> None:
    top = axis - h / 2
    if block.kind == "vector":
        canvas.shape(_rect(x, top, w, h, FILL), (x, top, x + w, top + h))
        _cells(canvas, x, top, w, h, block.shape[0], 1)
        return
    n = min(block.channels, SHOWN)
    side_w, side_h = w - depth, h - depth
    for k in reversed(range(n)):  # the back maps first, up and to the right
        left, upper = x + OFFSET * k, top + depth - OFFSET * k
        fill = FILL if k == 0 else BACK
        box = (left, upper, left + side_w, upper + side_h)
        canvas.shape(_rect(left, upper, side_w, side_h, fill), box)
    _cells(canvas, x, top + depth, side_w, side_h, *block.shape[-2:])


def _cells(canvas: Canvas, x: float, y: float, w: float, h: float, rows: int, cols: int):
    """The front map's pixels (a vector's entries) as faint lines, where they are few
    enough to tell apart."""
    if rows > MAX_CELLS or cols > MAX_CELLS:
        return
    for i in range(1, rows):
        canvas.polyline([(x, y + h * i / rows), (x + w, y + h * i / rows)], CELL, 0.5)
    for j in range(1, cols):
        canvas.polyline([(x + w * j / cols, y), (x + w * j / cols, y + h)], CELL, 0.5)


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'fill="{fill}" stroke="{STROKE}" stroke-width="1.1"/>'
    )


def _arrow(canvas: Canvas, x0: float, x1: float, axis: float, words: list[Label]) -> None:
    canvas.polyline([(x0, axis), (x1 - 6, axis)], ARROW, 1.3)
    canvas.arrowhead((x1, axis), (1, 0), ARROW)
    for i, label in enumerate(reversed(words)):  # the last line just above the arrow
        canvas.text((x0 + x1) / 2, axis - 6 - i * LINE, label, OP)

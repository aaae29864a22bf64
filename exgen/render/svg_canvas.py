"""A drawing surface for the figures: it keeps the geometry of what is drawn, so that
labels can be placed where nothing passes and the viewBox fits the drawing tightly."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field

from exgen.render.typeface import figure_font_css

FONT_FAMILY = "STIX, 'DejaVu Serif', serif"


def advance(text: str, bold: bool = False) -> float:
    """Text's estimated advance in ems, for placing it. An SVG in an <img> sees only the
    system's fonts, so the measure is the widest face the figures may get (DejaVu Serif)."""
    narrow = {" ": 0.32, ",": 0.32, ".": 0.32, "(": 0.4, ")": 0.4, "\u2009": 0.2, "\u200b": 0}
    ems = sum(narrow.get(c, 0.74 if c.isupper() else 0.62) for c in text)
    return ems * (1.15 if bold else 1.0)


@dataclass(frozen=True)
class Label:
    """Typeset text (SVG tspans) with its estimated width in ems."""

    svg: str
    ems: float


@dataclass
class Canvas:
    parts: list = field(default_factory=list)
    segments: list = field(default_factory=list)  # ((x1, y1), (x2, y2)) of every stroke
    boxes: list = field(default_factory=list)  # (x0, y0, x1, y1) of every shape and text
    extent: list = field(default_factory=lambda: [1e9, 1e9, -1e9, -1e9])

    def _cover(self, x0, y0, x1, y1):
        e = self.extent
        e[0], e[1], e[2], e[3] = min(e[0], x0), min(e[1], y0), max(e[2], x1), max(e[3], y1)

    def polyline(self, points, stroke: str, width: float, dash: str = "", cls: str = ""):
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.path(d, points, stroke, width, dash, cls)

    def path(self, d: str, points, stroke: str, width: float, dash: str = "", cls: str = ""):
        """A stroke; ``points`` follow its course closely enough for placement (curves
        are given sampled)."""
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        cls_attr = f' class="{cls}"' if cls else ""
        self.parts.append(
            f'<path{cls_attr} d="{d}" fill="none" stroke="{stroke}" '
            f'stroke-width="{width}"{dash_attr}/>'
        )
        for a, b in itertools.pairwise(points):
            self.segments.append((a, b))
            self._cover(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))

    def arrowhead(self, tip, direction, color: str, size: float = 7):
        (x, y), (ux, uy) = tip, direction
        n = max((ux * ux + uy * uy) ** 0.5, 1e-9)
        ux, uy = ux / n, uy / n
        pts = [(x, y), (x - size * ux + size / 2 * uy, y - size * uy - size / 2 * ux)]
        pts.append((x - size * ux - size / 2 * uy, y - size * uy + size / 2 * ux))
        self.parts.append(
            f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="{color}"/>'
        )
        for a, b in pts:
            self._cover(a, b, a, b)

    def circle(self, x, y, r, fill="#fff", stroke="#222"):
        self.parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.2"/>'
        )
        self.boxes.append((x - r, y - r, x + r, y + r))
        self._cover(x - r, y - r, x + r, y + r)

    def shape(self, svg: str, box):
        """A shape drawn as given (a node's rectangle or ellipse) and its bounding box."""
        self.parts.append(svg)
        self.boxes.append(box)
        self._cover(*box)

    def text(self, x, y, label: Label, size: float, anchor: str = "middle", fill: str = ""):
        """Text whose baseline is at y; returns its estimated box."""
        box = text_box(x, y, label, size, anchor)
        fill_attr = f' fill="{fill}"' if fill else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
            f'font-size="{size}"{fill_attr}>{label.svg}</text>'
        )
        self.boxes.append(box)
        self._cover(*box)
        return box

    def free(self, box, margin: float = 2) -> bool:
        """Whether ``box`` (grown by ``margin``) touches no stroke and no shape or text."""
        x0, y0, x1, y1 = box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin
        if any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in self.boxes):
            return False
        return not any(segment_meets_box(a, b, (x0, y0, x1, y1)) for a, b in self.segments)

    def svg(self, pad: float = 6) -> str:
        """The drawing with a viewBox tight around it (``pad`` units of margin)."""
        x0, y0, x1, y1 = self.extent
        x0, y0, w, h = x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
            f'viewBox="{x0:.1f} {y0:.1f} {w:.1f} {h:.1f}" font-family="{FONT_FAMILY}">'
            + "".join(self.parts)
            + "</svg>"
        )


def text_box(x, y, label: Label, size: float, anchor: str = "middle"):
    """The estimated box of text at (x, baseline y): ascenders above, a subscript below."""
    w = label.ems * size
    left = x - w / 2 if anchor == "middle" else (x - w if anchor == "end" else x)
    return (left, y - 0.78 * size, left + w, y + 0.3 * size)


def segment_meets_box(a, b, box) -> bool:
    """Whether segment a–b meets the box (Liang–Barsky clipping)."""
    x0, y0, x1, y1 = box
    dx, dy = b[0] - a[0], b[1] - a[1]
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def distance(p, a, b) -> float:
    """From point p to segment a–b."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-9)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


def cubic(p0, p1, p2, p3, steps: int = 16) -> list:
    """Points along a cubic Bézier curve."""
    out = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        out.append(
            tuple(
                u**3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t**3 * d
                for a, b, c, d in zip(p0, p1, p2, p3)
            )
        )
    return out


def data_uri(svg: str) -> str:
    """The figure as a data: URI, carrying its own fonts: an image cannot use the page's
    (a browser would set its labels in another, wider face)."""
    svg = svg.replace(">", f"><style>{figure_font_css(svg)}</style>", 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")

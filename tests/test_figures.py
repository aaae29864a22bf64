"""The figures as a reader sees them, checked from the SVG geometry of every shipped
sheet's figures (and a tanh network with a skip connection): skip connections apart
from the ordinary edges, labels where no edge passes, typeset labels, a viewBox tight
around the drawing, a narrow variant for phones, alt texts that describe the figure."""

from __future__ import annotations

import base64
import itertools
import math
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from exgen.build.single import solve_sheet, work_asks
from exgen.define.load import load_sheet
from exgen.render.documents import render

ROOT = Path(__file__).parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "exercises").glob("*.yaml"))
NS = "{http://www.w3.org/2000/svg}"
EDGE_GREY = "#777"

TANH_SKIP = (
    Path(__file__).parent / "fixtures" / "tanh_skip.yaml"
)  # h = tanh(W1 @ x + b1), y = W2 @ h + x


@cache
def _key(path: str) -> str:
    sheet = load_sheet(path)
    traces = solve_sheet(sheet)
    results = [work_asks(sheet, ex, t) for ex, t in zip(sheet.exercises, traces)]
    return render(sheet, traces, results).key_html


def key_html(name: str) -> str:
    if name == "tanh-skip":
        return _key(str(TANH_SKIP))
    return _key(str(ROOT / "exercises" / f"{name}.yaml"))


def images(html: str) -> list[tuple[str, str, str]]:
    """(kind, alt, svg) of each figure's image; kind "narrow" for a <source> variant."""
    out = []
    for fig in re.findall(r'<figure class="(\w+)"[^>]*>(.*?)</figure>', html, re.S):
        kind, body = fig
        for src in re.findall(r'srcset="data:image/svg\+xml;base64,([^"]+)"', body):
            out.append(("narrow", "", base64.b64decode(src).decode()))
        m = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]*)"', body)
        out.append((kind, m.group(2), base64.b64decode(m.group(1)).decode()))
    return out


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


def strokes(svg: str):
    """(stroke colour, dashed, sampled points) of every <line> and <path>."""
    out = []
    for el in ET.fromstring(svg).iter():
        tag = el.tag.replace(NS, "")
        if tag == "line":
            pts = [
                (float(el.get("x1")), float(el.get("y1"))),
                (float(el.get("x2")), float(el.get("y2"))),
            ]
        elif tag == "path":
            pts = _path_points(el.get("d"))
        else:
            continue
        out.append((el.get("stroke"), bool(el.get("stroke-dasharray")), pts))
    return out


def _path_points(d: str):
    pts, cur = [], None
    for cmd, args in re.findall(r"([MLCQ])([^MLCQ]*)", d):
        v = _numbers(args)
        xy = list(zip(v[::2], v[1::2]))
        if cmd in "ML":
            pts += xy
        else:  # a Bézier curve, sampled
            ctrl = [cur] + xy
            for i in range(1, 21):
                t = i / 20
                n = len(ctrl) - 1
                pts.append(
                    tuple(
                        sum(
                            math.comb(n, k) * (1 - t) ** (n - k) * t**k * p[j]
                            for k, p in enumerate(ctrl)
                        )
                        for j in (0, 1)
                    )
                )
        cur = pts[-1]
    return pts


def _distance(p, a, b) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-9)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def circles(svg: str):
    return [
        (float(c.get("cx")), float(c.get("cy")), float(c.get("r")))
        for c in ET.fromstring(svg).iter(NS + "circle")
    ]


def text_boxes(svg: str, em: float = 0.5):
    """Each <text>'s box, estimated from its font size and its characters (a script at
    its own size, ``em`` the mean advance): 0.5 em errs small (what is found outside the
    viewBox is surely cut off), 0.55 em errs large (a label clear of edges surely is)."""
    out = []
    for el in ET.fromstring(svg).iter(NS + "text"):
        size = float(el.get("font-size"))
        width = len(el.text or "") * em
        for span in el.iter(NS + "tspan"):
            given = span.get("font-size", "100%")
            scale = float(given[:-1]) / 100 if given.endswith("%") else float(given) / size
            width += len((span.text or "").replace("\u200b", "")) * em * scale
        w = width * size
        x, y = float(el.get("x")), float(el.get("y"))
        left = {"middle": x - w / 2, "end": x - w}.get(el.get("text-anchor"), x)
        out.append(("".join(el.itertext()), (left, y - 0.65 * size, left + w, y)))
    return out


def _meets(a, b, box) -> bool:
    x0, y0, x1, y1 = box
    for i in range(21):
        t = i / 20
        x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        if x0 < x < x1 and y0 < y < y1:
            return True
    return False


def architecture_figures():
    for name in SHIPPED + ["tanh-skip"]:
        for kind, alt, svg in images(key_html(name)):
            if kind in ("arch", "narrow"):
                yield name, kind, alt, svg


@pytest.mark.parametrize("name", ["hw4-residual-softmax", "tanh-skip"])
def test_a_skip_connection_lies_on_no_ordinary_edge_and_ends_in_an_arrow(name):
    svg = next(s for n, kind, _, s in architecture_figures() if n == name and kind == "arch")
    lines = strokes(svg)
    edges = [pts for colour, _, pts in lines if colour == EDGE_GREY]
    skips = [pts for colour, _, pts in lines if colour != EDGE_GREY]
    units = circles(svg)
    assert skips, "no skip connection drawn"
    for skip in skips:
        # away from where it leaves and joins a unit, it keeps clear of every edge
        for p in skip:
            if any(math.hypot(p[0] - cx, p[1] - cy) < 2 * r for cx, cy, r in units):
                continue
            near = min(_distance(p, a, b) for e in edges for a, b in itertools.pairwise(e))
            assert near > 4, f"skip connection at {p} lies on an ordinary edge ({near:.1f})"
            assert not any(math.hypot(p[0] - cx, p[1] - cy) < r + 2 for cx, cy, r in units)
        tips = [_numbers(pg.get("points"))[:2] for pg in ET.fromstring(svg).iter(NS + "polygon")]
        assert any(math.hypot(t[0] - skip[-1][0], t[1] - skip[-1][1]) < 1 for t in tips)


def test_labels_sit_where_no_edge_passes():
    hits = []
    for name, kind, _, svg in architecture_figures():
        segments = [(a, b) for _, _, pts in strokes(svg) for a, b in itertools.pairwise(pts)]
        for text, box in text_boxes(svg, em=0.55):
            crossed = sum(_meets(a, b, box) for a, b in segments)
            if crossed:
                hits.append(f"{name} {kind}: label {text!r} on {crossed} edge(s)")
    assert not hits, "\n".join(hits)


def test_labels_are_typeset_not_the_equation_text():
    svg = next(s for n, kind, _, s in architecture_figures() if n == "tanh-skip" and kind == "arch")
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(NS + "text")]
    label = next(t for t in texts if "tanh" in t)
    assert "@" not in label and "*" not in label
    spans = list(ET.fromstring(svg).iter(NS + "tspan"))
    assert any(s.get("font-weight") == "bold" and s.text == "W" for s in spans)
    assert any(s.text == "1" and s.get("font-size") for s in spans)  # the index, smaller
    assert "font-family" not in "".join(ET.tostring(s, encoding="unicode") for s in spans)


def test_scalars_are_italic():
    svg = next(s for n, kind, _, s in architecture_figures() if n == "hw4-residual-softmax")
    spans = list(ET.fromstring(svg).iter(NS + "tspan"))
    assert any(s.get("font-style") == "italic" and s.text == "x" for s in spans)


def test_the_viewbox_fits_the_drawing():
    for name in SHIPPED + ["tanh-skip"]:
        for kind, _, svg in images(key_html(name)):
            root = ET.fromstring(svg)
            x0, y0, w, h = _numbers(root.get("viewBox"))
            points = [p for _, _, pts in strokes(svg) for p in pts]
            points += [
                (cx + dx, cy + dy) for cx, cy, r in circles(svg) for dx, dy in ((-r, -r), (r, r))
            ]
            for el in root.iter():
                if el.tag in (NS + "rect", NS + "ellipse"):
                    v = {
                        k: float(el.get(k, 0))
                        for k in ("x", "y", "width", "height", "cx", "cy", "rx", "ry")
                    }
                    if el.tag == NS + "rect":
                        points += [(v["x"], v["y"]), (v["x"] + v["width"], v["y"] + v["height"])]
                    else:
                        points += [
                            (v["cx"] - v["rx"], v["cy"] - v["ry"]),
                            (v["cx"] + v["rx"], v["cy"] + v["ry"]),
                        ]
            points += [(b[0], b[1]) for _, b in text_boxes(svg)] + [
                (b[2], b[3]) for _, b in text_boxes(svg)
            ]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            where = f"{name} {kind}"
            # nothing cut off (W₁ at the left edge was), and no empty band (the gap
            # between a figure and its caption was)
            assert min(xs) >= x0 - 0.5 and max(xs) <= x0 + w + 0.5, where
            assert min(ys) >= y0 - 0.5 and max(ys) <= y0 + h + 0.5, where
            # (text is measured roughly here: more slack across than down)
            assert min(xs) - x0 < 24 and x0 + w - max(xs) < 24, where
            assert min(ys) - y0 < 14 and y0 + h - max(ys) < 14, where


def test_network_figures_stay_readable_on_a_phone():
    """At 390 px (315 px of text width) the labels keep at least 9 px."""
    for name in SHIPPED:
        html = key_html(name)
        found = images(html)
        arch = [f for f in found if f[0] == "arch"]
        narrow = [f for f in found if f[0] == "narrow"]
        assert len(narrow) == len(arch), name
        assert html.count('<source media="(max-width: 600px)"') == len(arch), name
        for _, _, svg in narrow:
            width = _numbers(ET.fromstring(svg).get("viewBox"))[2]
            smallest = min(float(t.get("font-size")) for t in ET.fromstring(svg).iter(NS + "text"))
            assert smallest * min(1, 315 / width) >= 9, (name, width)


def test_alt_texts_describe_the_network_and_the_graph():
    html = key_html("hw4-residual-softmax")
    alt = next(a for k, a, _ in images(html) if k == "arch")
    assert "input x (1 unit)" in alt and "v = ReLU(u) (1 unit)" in alt
    assert "skip connection from x" in alt and "through w2" in alt
    alt = next(a for k, a, _ in images(key_html("hw2-numpy-backprop")) if k == "arch")
    assert "z1 = σ(u1) (4 units)" in alt and "f (2 units)" in alt and "W3 plus bias b3" in alt
    graphs = [a for k, a, _ in images(key_html("sheet9")) if k == "graph"]
    assert "u1 = W1·x; z1 = ReLU(u1)" in graphs[0] and "loss L" in graphs[0]
    assert "∂L/∂L, ∂L/∂y" in graphs[1]
    skip = next(a for n, k, a, _ in architecture_figures() if k == "arch" and n == "tanh-skip")
    assert "h = tanh(W1·x + b1) (3 units)" in skip and "skip connection from x" in skip


def test_figures_are_numbered_in_order():
    for name in SHIPPED:
        numbers = [int(n) for n in re.findall(r"<figcaption>Figure (\d+):", key_html(name))]
        assert numbers == list(range(1, len(numbers) + 1)), (name, numbers)


def _shapes(svg: str):
    out = []
    for el in ET.fromstring(svg).iter():
        if el.tag == NS + "rect":
            x, y, w, h = (float(el.get(k)) for k in ("x", "y", "width", "height"))
            out.append((x, y, x + w, y + h))
        elif el.tag == NS + "ellipse":
            cx, cy, rx, ry = (float(el.get(k)) for k in ("cx", "cy", "rx", "ry"))
            out.append((cx - rx, cy - ry, cx + rx, cy + ry))
    return out


def test_graph_nodes_do_not_collide():
    hits = []
    for name in SHIPPED + ["tanh-skip"]:
        for kind, _, svg in images(key_html(name)):
            if kind != "graph":
                continue
            shapes = _shapes(svg)
            for i, a in enumerate(shapes):
                for b in shapes[i + 1 :]:
                    if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1:
                        hits.append(f"{name}: {a} and {b}")
    assert not hits, "\n".join(hits)


def test_graph_edges_pass_no_node():
    """An edge runs between its two nodes and through none other (a label under an
    edge reads as struck through)."""
    hits = []
    for name in SHIPPED + ["tanh-skip"]:
        for kind, _, svg in images(key_html(name)):
            if kind != "graph":
                continue
            shapes = _shapes(svg)
            for _, _, pts in strokes(svg):
                ends = [s for s in shapes if any(_inside(p, s, 3) for p in (pts[0], pts[-1]))]
                for s in shapes:
                    if s in ends:
                        continue
                    inner = (s[0] + 2, s[1] + 2, s[2] - 2, s[3] - 2)
                    if any(_meets(a, b, inner) for a, b in itertools.pairwise(pts)):
                        hits.append(f"{name}: edge {pts[0]}→{pts[-1]} through {s}")
    assert not hits, "\n".join(hits)


def _inside(p, box, margin) -> bool:
    return box[0] - margin <= p[0] <= box[2] + margin and box[1] - margin <= p[1] <= box[3] + margin


def test_a_layer_without_a_name_is_labelled_with_its_typeset_expression(tmp_path):
    from exgen.render.architecture_figure import architecture
    from exgen.typeset.notation import Notation

    text = TANH_SKIP.read_text().replace(
        "        - h = tanh(W1 @ x + b1)\n        - y = W2 @ h + x\n",
        "        - y = W2 @ tanh(W1 @ x + b1) + x\n",
    )
    path = tmp_path / "unnamed.yaml"
    path.write_text(text)
    graph = solve_sheet(load_sheet(str(path)))[0].graph
    figure = architecture(graph, Notation(graph))
    for uri in (figure.wide, figure.narrow):
        svg = base64.b64decode(uri.split(",", 1)[1]).decode()
        texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(NS + "text")]
        assert any("tanh" in t for t in texts) and not any("@" in t for t in texts)
    assert "layer tanh(W1·x + b1) (3 units, tanh activation)" in figure.alt


def test_a_srcset_may_hold_one_data_uri_and_nothing_else():
    from exgen.errors import TemplateProblem
    from exgen.render.sandbox import check_document

    check_document('<picture><source srcset="data:image/svg+xml;base64,PHN2Zy8+"></picture>', "t")
    for srcset in ("https://example.org/a.svg", "data:image/png;base64,AA 1x, https://e.org/b 2x"):
        with pytest.raises(TemplateProblem, match="srcset="):
            check_document(f'<picture><source srcset="{srcset}"></picture>', "t")


def test_an_input_stands_just_before_its_first_use():
    """The unrolled RNN: x₂ enters at the second step, so it is drawn in the column of
    h₁ (feeding h₂), not with x₁ and h₀ at the start; the MLP's input stays first."""
    from exgen.render.network_layers import layers_of

    def depths(name):
        ex = load_sheet(str(ROOT / "exercises" / f"{name}.yaml")).exercises[0]
        return {layer.name: layer.depth for layer in layers_of(ex.graph)}

    rnn = depths("rnn")
    assert (rnn["x1"], rnn["h0"], rnn["h1"]) == (0, 0, 1)
    assert (rnn["x2"], rnn["h2"], rnn["x3"], rnn["h3"]) == (1, 2, 2, 3)
    assert depths("sheet9")["x"] == 0

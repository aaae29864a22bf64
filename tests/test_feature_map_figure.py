"""The CNN's architecture figure: feature-map blocks and their operations, read off the
compiled graph (shapes, operations and their settings), drawn and described."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import numpy as np

from exgen.engine.equations import parse_equation
from exgen.engine.graph import compile_graph
from exgen.render.architecture_figure import architecture
from exgen.render.feature_maps import stages_of
from exgen.typeset.notation import Notation

NS = "{http://www.w3.org/2000/svg}"


def _graph(lines: list[str], values: dict, params: list[str]):
    given = {k: np.array(v, dtype=float) for k, v in values.items()}
    return compile_graph([parse_equation(t) for t in lines], given, "L", params)


def _net(conv="conv2d(x, K, padding=1)", pool="maxpool(a)", x=None):
    x = np.ones((5, 5)) if x is None else x
    return _graph(
        [
            f"z = {conv} + b",
            "a = relu(z)",
            f"p = {pool}",
            "f = flatten(p)",
            "y = W @ f + c",
            "L = 0.5 * sum((y - t)**2)",
        ],
        {"x": x, "K": np.ones((3, 3)), "b": 0.5, "W": np.ones((2, 4)), "c": [0, 1], "t": [1, 2]},
        ["K", "b", "W", "c"],
    )


def _svgs(figure):
    return [base64.b64decode(u.split(",", 1)[1]).decode() for u in (figure.wide, figure.narrow)]


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(NS + "text")]


def test_the_blocks_and_operations_come_from_the_graph():
    blocks = stages_of(_net())
    assert [b.name for b in blocks] == ["x", "a", "p", "f", "y"]
    assert [b.size for b in blocks] == ["5×5", "5×5", "2×2", "4", "2"]
    assert [b.via for b in blocks] == [
        [],
        ["conv 3×3", "s=1, p=1", "ReLU"],
        ["max-pool 2×2"],
        ["flatten"],
        ["dense"],
    ]
    assert blocks[1].folded == ["b"] and blocks[4].folded == ["c"]
    # another stride, padding and pooling: other words and sizes (9×9 → 4×4 → 2×2)
    graph = _net("conv2d(x, K, stride=2)", "avgpool(a, size=3, stride=1)", np.ones((9, 9)))
    blocks = stages_of(graph)
    assert blocks[1].via[:2] == ["conv 3×3", "s=2, p=0"] and blocks[1].size == "4×4"
    assert blocks[2].via == ["avg-pool 3×3", "s=1"] and blocks[2].size == "2×2"


def test_the_figure_shows_each_block_its_shape_and_operation():
    graph = _net()
    figure = architecture(graph, Notation(graph))
    for svg in _svgs(figure):
        texts = _texts(svg)
        for label in ("5×5", "2×2", "4", "2", "conv 3×3", "s=1, p=1", "ReLU", "max-pool 2×2"):
            assert label in texts, (label, texts)
        assert "flatten" in texts and "dense" in texts
        assert {"x", "a", "p", "f", "y"} <= set(texts)
        # a map of 5×5 pixels shows them: 4 + 4 faint lines inside its rectangle
        assert len(ET.fromstring(svg).findall(NS + "rect")) == 5
    assert figure.alt == (
        "Network of feature maps: input x (a 5×5 map); then conv 3×3, s=1, p=1, ReLU "
        "(plus bias b) gives a (a 5×5 map); then max-pool 2×2 gives p (a 2×2 map); then "
        "flatten gives f (a vector of 4); then dense (plus bias c) gives y (a vector of 2)."
    )


def test_two_channels_are_a_stack_of_two_maps_labelled_2_at():
    graph = _graph(
        ["z = conv2d(x, K, stride=2) + b", "a = relu(z)", "L = 0.5 * sum((a - T)**2)"],
        {
            "x": np.ones((2, 4, 4)),
            "K": np.ones((2, 2, 2, 2)),
            "b": [0.5, -0.5],
            "T": np.ones((2, 2, 2)),
        },
        ["K", "b"],
    )
    blocks = stages_of(graph)
    assert [b.size for b in blocks] == ["2@4×4", "2@2×2"]
    figure = architecture(graph, Notation(graph))
    svg = _svgs(figure)[0]
    assert "2@4×4" in _texts(svg) and "2@2×2" in _texts(svg)
    assert len(ET.fromstring(svg).findall(NS + "rect")) == 4  # two maps a block
    assert "input x (2 maps of 4×4)" in figure.alt and "a (2 maps of 2×2)" in figure.alt


def test_a_batch_is_labelled_with_its_samples():
    graph = _graph(
        ["z = conv2d(x, K)", "f = flatten(z)", "L = 0.5 * sum((f - t)**2)"],
        {"x": np.ones((3, 1, 3, 3)), "K": np.ones((2, 1, 2, 2)), "t": np.ones((8, 3))},
        ["K"],
    )
    assert [b.size for b in stages_of(graph)] == ["3×1@3×3", "3×2@2×2", "8×3"]


def test_a_wide_network_wraps_into_rows_that_fit_the_page():
    graph = _net(x=np.ones((5, 5)))
    wide, narrow = (_numbers_of(svg) for svg in _svgs(architecture(graph, Notation(graph))))
    assert wide[2] <= 640 and narrow[2] <= 420
    assert narrow[3] > wide[3]  # the narrow figure took a second row


def _numbers_of(svg: str) -> list[float]:
    return [float(v) for v in ET.fromstring(svg).get("viewBox").split()]


def test_a_skip_around_a_convolution_is_no_chain_of_blocks():
    graph = _graph(
        ["a = relu(conv2d(x, K, padding=1)) + x", "L = 0.5 * sum((a - t)**2)"],
        {"x": np.ones((4, 4)), "K": np.ones((3, 3)), "t": np.ones((4, 4))},
        ["K"],
    )
    assert stages_of(graph) is None
    assert architecture(graph, Notation(graph)) is None

"""The layers shorthand for small CNNs: conv, pool, flatten and dense layers compile to
the equations one would write, solve as those equations do, pass `exgen check`, and a
layer that cannot be is refused naming the layer and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from exgen.check.oracles import check_sheet
from exgen.define.load import load_sheet
from exgen.engine.solve import solve
from exgen.errors import DefinitionError

FIXTURE = Path(__file__).parent / "fixtures" / "cnn_layers.yaml"
CNN = Path(__file__).parents[1] / "exercises" / "cnn.yaml"


def test_a_small_cnn_compiles_to_its_equations():
    net, channels = load_sheet(str(FIXTURE)).exercises
    assert [e.source for e in net.graph.equations] == [
        "u1 = conv2d(x, K1, padding=1) + b1",
        "z1 = relu(u1)",
        "z2 = maxpool(z1)",
        "z3 = flatten(z2)",
        "y = W4 @ z3 + b4",
        "L = 0.5 * sum((y - t) ** 2)",
    ]
    assert net.graph.params == ("K1", "b1", "W4", "b4")
    assert [e.source for e in channels.graph.equations][:4] == [
        "u1 = conv2d(x, K1, stride=2) + b1",
        "z1 = relu(u1)",
        "z2 = avgpool(z1)",
        "z3 = flatten(z2)",
    ]
    assert channels.graph.nodes["z1"].shape == (2, 2, 2)


def test_it_solves_as_the_equations_written_out():
    """cnn.yaml's small CNN (question 3) has the same numbers: the same loss and
    gradients, name for name."""
    ours = load_sheet(str(FIXTURE)).exercises[0]
    theirs = next(e for e in load_sheet(str(CNN)).exercises if e.spec.id == "net")
    a = solve(ours.graph, ours.given, ours.rounding)
    b = solve(theirs.graph, theirs.given, theirs.rounding)
    assert a.values["L"] == b.values["L"]
    for mine, its in (("K1", "K"), ("b1", "b"), ("W4", "W"), ("b4", "c")):
        assert (a.grads[mine] == b.grads[its]).all(), mine


@pytest.mark.slow
def test_exgen_check_passes_on_the_cnn_layers():
    verdicts = check_sheet(load_sheet(str(FIXTURE)))
    assert verdicts and all(v.ok for v in verdicts), [v.lines() for v in verdicts]


def _sheet(tmp_path, layers: str, values: str) -> str:
    path = tmp_path / "cnn.yaml"
    path.write_text(f"""title: t
exercises:
  - id: e
    title: e
    network:
      layers:
{layers}
      loss: half_sum
    values:
{values}
    ask: [forward]
""")
    return str(path)


MAP = "      x: [[1, 0, 2, 1], [0, 1, 1, 0], [2, 1, 0, 1], [1, 0, 1, 2]]\n      t: [1]"


@pytest.mark.parametrize(
    ("layers", "values", "message"),
    [
        (
            "        - {kind: conv, size: 3}\n        - {units: 1}",
            MAP + "\n      K1: [[1, 0, 1], [0, 1, 0], [1, 0, 1]]\n      b1: 0",
            "exercises[0].network.layers[1]: a dense layer takes a vector: flatten the maps "
            "first (add {kind: flatten} before it)",
        ),
        (
            "        - {kind: conv, size: 5}",
            MAP,
            "exercises[0].network.layers[0].size: a 5×5 kernel does not fit the 4×4 map "
            "(padding 0)",
        ),
        (
            "        - {kind: conv, size: 2, filters: 2}",
            MAP,
            "exercises[0].network.layers[0].filters: 2 filters need an image C×H×W (or a "
            "batch N×C×H×W) to work on; the layer's input is one 4×4 map (give the image "
            "one channel, [[[…]]], to use filters)",
        ),
        (
            "        - {kind: conv, size: 2}\n        - {kind: flatten}\n        - {units: 1}",
            MAP + "\n      b1: 0",
            "exercises[0].values: missing 'K1': layer 1 needs a 2×2 kernel",
        ),
        (
            "        - {kind: conv, size: 2}\n        - {kind: flatten}\n        - {units: 1}",
            MAP + "\n      K1: [[1, 0, 1], [0, 1, 0], [1, 0, 1]]\n      b1: 0",
            "exercises[0].values.K1: layer 1 needs a 2×2 kernel, found shape 3×3",
        ),
        (
            "        - {kind: pool, size: 5}",
            MAP,
            "exercises[0].network.layers[0].size: the 5×5 window does not fit the 4×4 map it pools",
        ),
        (
            "        - {kind: pool, mode: min}",
            MAP,
            "exercises[0].network.layers[0].mode: expected 'max' or 'avg', found 'min'",
        ),
        (
            "        - {kind: conv, size: 3, stride: 4}",
            MAP,
            "exercises[0].network.layers[0].stride: expected 1, 2 or 3, found 4",
        ),
        (
            "        - {kind: convolution, size: 3}",
            MAP,
            "exercises[0].network.layers[0]: expected kind dense, conv, pool or flatten",
        ),
        (
            "        - {kind: conv, size: 3, units: 2}",
            MAP,
            "exercises[0].network.layers[0].units: unknown key 'units'",
        ),
        (
            "        - {units: 2}\n        - {kind: pool}",
            "      x: [1, 2]\n      t: [1]\n      W1: [[1, 0], [0, 1]]\n      b1: [0, 0]",
            "exercises[0].network.layers[1]: a pool layer takes maps, not a vector of 2 (a "
            "dense layer's output)",
        ),
        (
            "        - {units: 3}",
            "      x: [1, 2]\n      t: [1, 0]\n      W1: [[1, 0], [0, 1]]\n      b1: [0, 0]",
            "exercises[0].values.W1: layer 1 needs a 3×2 weight matrix, found shape 2×2",
        ),
    ],
)
def test_a_layer_that_cannot_be_is_refused_naming_it(tmp_path, layers, values, message):
    path = _sheet(tmp_path, layers, values)
    with pytest.raises(DefinitionError) as info:
        load_sheet(path)
    assert str(info.value).split(": ", 1)[1] == message

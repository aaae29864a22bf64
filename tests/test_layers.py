"""The layers shorthand compiles to equations; checked against plain NumPy backprop."""

from __future__ import annotations

import numpy as np
import pytest

from exgen.define.load import load_sheet
from exgen.engine.solve import solve
from exgen.errors import DefinitionError


def sheet(tmp_path, network: str, values: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(f"""title: t
exercises:
  - id: e
    title: e
    network:
{network}
    values:
{values}
    ask: [forward, backward]
""")
    return str(path)


def rnd(rng, *shape):
    return np.round(rng.normal(size=shape), 2)


def fmt(a):
    return repr(a.tolist())


def test_column_layout_half_mean_matches_numpy(tmp_path):
    rng = np.random.default_rng(1)
    x, t = rnd(rng, 3, 5), rnd(rng, 2, 5)
    W1, b1, W2, b2, W3, b3 = (
        rnd(rng, 4, 3),
        rnd(rng, 4),
        rnd(rng, 4, 4),
        rnd(rng, 4),
        rnd(rng, 2, 4),
        rnd(rng, 2),
    )
    path = sheet(
        tmp_path,
        """      input: x
      target: t
      layers: [{units: 4, activation: sigmoid}, {units: 4, activation: sigmoid}, {units: 2}]
      loss: half_mean""",
        "\n".join(
            f"      {k}: {fmt(v)}"
            for k, v in dict(x=x, t=t, W1=W1, b1=b1, W2=W2, b2=b2, W3=W3, b3=b3).items()
        ),
    )
    ex = load_sheet(path).exercises[0]
    assert [e.source for e in ex.graph.equations] == [
        "u1 = W1 @ x + b1",
        "z1 = sigmoid(u1)",
        "u2 = W2 @ z1 + b2",
        "z2 = sigmoid(u2)",
        "y = W3 @ z2 + b3",
        "L = 0.5 * sum((y - t) ** 2) / 5",
    ]
    assert ex.graph.params == ("W1", "b1", "W2", "b2", "W3", "b3")
    trace = solve(ex.graph, ex.given, ex.rounding)
    # plain numpy backprop
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    z1 = sig(W1 @ x + b1[:, None])
    z2 = sig(W2 @ z1 + b2[:, None])
    y = W3 @ z2 + b3[:, None]
    dy = (y - t) / 5
    dW3, db3 = dy @ z2.T, dy.sum(1)
    d2 = (W3.T @ dy) * z2 * (1 - z2)
    dW2, db2 = d2 @ z1.T, d2.sum(1)
    d1 = (W2.T @ d2) * z1 * (1 - z1)
    dW1, db1 = d1 @ x.T, d1.sum(1)
    assert float(trace.values["L"][0, 0]) == pytest.approx(
        0.5 * ((y - t) ** 2).sum() / 5, rel=1e-12
    )
    for name, g in dict(W1=dW1, b1=db1, W2=dW2, b2=db2, W3=dW3, b3=db3).items():
        np.testing.assert_allclose(trace.grads[name].astype(float).reshape(g.shape), g, rtol=1e-10)


def test_row_layout_mse_matches_numpy(tmp_path):
    rng = np.random.default_rng(2)
    X, T = rnd(rng, 4, 3), rnd(rng, 4, 2)
    W1, B1, W2, B2 = rnd(rng, 3, 5), rnd(rng, 5), rnd(rng, 5, 2), rnd(rng, 2)
    path = sheet(
        tmp_path,
        """      input: X
      target: T
      output: Y
      layers: [{units: 5, activation: relu}, {units: 2}]
      loss: mse
      layout: row""",
        "\n".join(
            f"      {k}: {fmt(v)}" for k, v in dict(X=X, T=T, W1=W1, B1=B1, W2=W2, B2=B2).items()
        ),
    )
    ex = load_sheet(path).exercises[0]
    assert [e.source for e in ex.graph.equations] == [
        "u1 = X @ W1 + B1",
        "z1 = relu(u1)",
        "Y = z1 @ W2 + B2",
        "L = mean((Y - T) ** 2)",
    ]
    assert ex.graph.exact
    trace = solve(ex.graph, ex.given, ex.rounding)
    Z1 = X @ W1 + B1
    A1 = np.maximum(Z1, 0)
    Y = A1 @ W2 + B2
    dY = 2 * (Y - T) / Y.size
    dW2, dB2 = A1.T @ dY, dY.sum(0)
    dZ1 = (dY @ W2.T) * (Z1 > 0)
    dW1, dB1 = X.T @ dZ1, dZ1.sum(0)
    for name, g in dict(W1=dW1, B1=dB1, W2=dW2, B2=dB2).items():
        np.testing.assert_allclose(trace.grads[name].astype(float).reshape(g.shape), g, rtol=1e-10)


def test_softmax_cross_entropy_gradient_is_p_minus_y(tmp_path):
    path = sheet(
        tmp_path,
        """      input: x
      target: t
      layers: [{units: 3}]
      loss: softmax_ce""",
        """      x: [0.5, -1]
      t: [0, 1, 0]
      W1: [[1, 2], [0.5, -1], [0, 0.25]]
      b1: [0.1, 0.2, 0.3]""",
    )
    ex = load_sheet(path).exercises[0]
    assert [e.source for e in ex.graph.equations][-2:] == [
        "p = softmax(u1)",
        "L = -sum(t * log(p))",
    ]
    trace = solve(ex.graph, ex.given, ex.rounding)
    p = trace.values["p"].astype(float)
    np.testing.assert_allclose(
        trace.grads["u1"].astype(float), p - np.array([[0], [1], [0]]), rtol=1e-12
    )


def test_missing_weight_names_the_layer(tmp_path):
    path = sheet(
        tmp_path,
        """      layers: [{units: 2, activation: relu}, {units: 1}]
      loss: half_sum""",
        """      x: [1, 2]
      t: [1]
      W1: [[1, 2], [3, 4]]
      b1: [0, 0]
      b2: [0]""",
    )
    with pytest.raises(DefinitionError) as info:
        load_sheet(path)
    assert str(info.value) == (
        f"{path}:8: exercises[0].values: missing 'W2': layer 2 needs a 1×2 weight matrix"
    )
